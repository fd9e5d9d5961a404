#!/usr/bin/env python3
"""Starts moto_server on a free loopback port for the tests, and stops it when the test
process that asked for it is gone.

Usage: s3_server.py INFO_FILE PARENT_PID [--no-auth]

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

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
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

tmp = info_file + ".tmp"
with open(tmp, "w") as out:
    json.dump({"endpoint": endpoint, "bucket": bucket, "access_key": access, "secret_key": secret,
               "pid": os.getpid(), "auth": auth}, out)
os.rename(tmp, info_file)

# Watch the test process: when it is gone, stop moto and leave.
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
