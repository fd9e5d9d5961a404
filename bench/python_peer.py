#!/usr/bin/env python3
"""The peer: Laju's backup and restore steps in Python, as a team would write them today.

  python_peer.py backup DB KEY        sqlite3 backup API -> zlib level 6 (gzip) -> AES-256-GCM
                                      (cryptography) -> boto3 put_object with Laju's metadata
  python_peer.py restore KEY OUT      boto3 get_object -> MD5 check -> decrypt -> gunzip -> write
                                      -> PRAGMA integrity_check

S3 settings and the encryption key (base64) come from the environment: S3_ENDPOINT, S3_BUCKET,
S3_ACCESS_KEY, S3_SECRET_KEY, BENCH_KEY. Prints the stored size (backup).
"""
import base64
import hashlib
import os
import sqlite3
import sys
import tempfile
import zlib

import boto3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["S3_ACCESS_KEY"], aws_secret_access_key=os.environ["S3_SECRET_KEY"])
bucket = os.environ["S3_BUCKET"]
key = base64.b64decode(os.environ["BENCH_KEY"])


def backup(db_path, object_key):
    with tempfile.TemporaryDirectory() as work:
        snapshot = os.path.join(work, "snapshot.db")
        source, copy = sqlite3.connect(db_path), sqlite3.connect(snapshot)
        source.backup(copy)
        copy.close()
        source.close()
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        with open(snapshot, "rb") as f:
            data = compressor.compress(f.read()) + compressor.flush()
    iv = os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, data, None)
    body, tag = sealed[:-16], sealed[-16:]
    s3.put_object(Bucket=bucket, Key=object_key, Body=body, Metadata={
        "algo": "aes-256-gcm", "iv": base64.b64encode(iv).decode(), "tag": base64.b64encode(tag).decode(),
        "comp": "gzip", "checksum": hashlib.md5(body).hexdigest()})
    print(len(body))


def restore(object_key, out):
    response = s3.get_object(Bucket=bucket, Key=object_key)
    body, meta = response["Body"].read(), response["Metadata"]
    if hashlib.md5(body).hexdigest() != meta["checksum"]:
        sys.exit("checksum mismatch")
    plain = AESGCM(key).decrypt(base64.b64decode(meta["iv"]), body + base64.b64decode(meta["tag"]), None)
    with open(out, "wb") as f:
        f.write(zlib.decompress(plain, 47))
    if sqlite3.connect(out).execute("PRAGMA integrity_check").fetchone()[0] != "ok":
        sys.exit("integrity check failed")


if __name__ == "__main__":
    if sys.argv[1] == "backup":
        backup(sys.argv[2], sys.argv[3])
    else:
        restore(sys.argv[2], sys.argv[3])
