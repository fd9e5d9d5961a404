#!/usr/bin/env python3
"""An independent S3 client (boto3) for the tests: reads what the suite wrote and writes
what Laju's backup.ts would. Credentials come from the environment (S3_ENDPOINT, S3_BUCKET,
S3_ACCESS_KEY, S3_SECRET_KEY), never from arguments.

Usage:
  s3_peer.py list PREFIX                   JSON list of keys (every page)
  s3_peer.py get KEY OUT_FILE META_FILE    object bytes and metadata JSON
  s3_peer.py put KEY FILE META_FILE        PutObject with x-amz-meta-* from META_FILE
  s3_peer.py start-multipart KEY           a multipart upload with one part, never completed
  s3_peer.py uploads PREFIX                JSON list of unfinished multipart upload keys
  s3_peer.py head KEY                      JSON: metadata, size, server-side encryption
  s3_peer.py create-bucket NAME            CreateBucket
  s3_peer.py put-bytes KEY TEXT            PutObject of TEXT's bytes, no metadata
  s3_peer.py iam-user NAME POLICY_JSON     (moto) an IAM user with this inline policy: JSON keys
"""
import json
import os
import sys

import boto3

s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["S3_ACCESS_KEY"], aws_secret_access_key=os.environ["S3_SECRET_KEY"])
bucket = os.environ["S3_BUCKET"]
command = sys.argv[1]

if command == "list":
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=sys.argv[2]):
        keys += [item["Key"] for item in page.get("Contents", [])]
    print(json.dumps(keys))
elif command == "get":
    response = s3.get_object(Bucket=bucket, Key=sys.argv[2])
    with open(sys.argv[3], "wb") as out:
        out.write(response["Body"].read())
    with open(sys.argv[4], "w") as out:
        json.dump(response["Metadata"], out)
elif command == "put":
    metadata = json.load(open(sys.argv[4]))
    with open(sys.argv[3], "rb") as body:
        s3.put_object(Bucket=bucket, Key=sys.argv[2], Body=body.read(), Metadata=metadata)
elif command == "start-multipart":
    upload = s3.create_multipart_upload(Bucket=bucket, Key=sys.argv[2])
    s3.upload_part(Bucket=bucket, Key=sys.argv[2], UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 1024)
elif command == "uploads":
    response = s3.list_multipart_uploads(Bucket=bucket, Prefix=sys.argv[2])
    print(json.dumps([u["Key"] for u in response.get("Uploads", [])]))
elif command == "head":
    response = s3.head_object(Bucket=bucket, Key=sys.argv[2])
    print(json.dumps({"metadata": response["Metadata"], "size": response["ContentLength"],
                      "sse": response.get("ServerSideEncryption")}))
elif command == "create-bucket":
    s3.create_bucket(Bucket=sys.argv[2])
elif command == "put-bytes":
    s3.put_object(Bucket=bucket, Key=sys.argv[2], Body=sys.argv[3].encode())
elif command == "iam-user":
    iam = boto3.client("iam", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1",
                       aws_access_key_id=os.environ["S3_ACCESS_KEY"], aws_secret_access_key=os.environ["S3_SECRET_KEY"])
    iam.create_user(UserName=sys.argv[2])
    iam.put_user_policy(UserName=sys.argv[2], PolicyName="least-privilege", PolicyDocument=sys.argv[3])
    key = iam.create_access_key(UserName=sys.argv[2])["AccessKey"]
    print(json.dumps({"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}))
else:
    sys.exit("unknown command " + command)
