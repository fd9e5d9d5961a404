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
  s3_peer.py create-lock-bucket NAME       CreateBucket with Object Lock enabled (versioned)
  s3_peer.py lock KEY                      JSON: mode, retain_until (epoch seconds), version of the current version
  s3_peer.py versions PREFIX               JSON: [[key, version id, is delete marker], ...]
  s3_peer.py delete-version KEY            DeleteObject of the current version by id: prints ok or the error code
  s3_peer.py shorten KEY SECONDS           (governance) retention set to SECONDS from now, bypassing governance
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
elif command == "create-lock-bucket":
    s3.create_bucket(Bucket=sys.argv[2], ObjectLockEnabledForBucket=True)
elif command == "lock":
    response = s3.head_object(Bucket=bucket, Key=sys.argv[2])
    until = response.get("ObjectLockRetainUntilDate")
    print(json.dumps({"mode": response.get("ObjectLockMode"), "retain_until": until.timestamp() if until else None,
                      "version": response.get("VersionId")}))
elif command == "versions":
    response = s3.list_object_versions(Bucket=bucket, Prefix=sys.argv[2])
    rows = [[v["Key"], v["VersionId"], False] for v in response.get("Versions", [])]
    rows += [[m["Key"], m["VersionId"], True] for m in response.get("DeleteMarkers", [])]
    print(json.dumps(sorted(rows)))
elif command == "delete-version":
    version = s3.head_object(Bucket=bucket, Key=sys.argv[2])["VersionId"]
    try:
        s3.delete_object(Bucket=bucket, Key=sys.argv[2], VersionId=version)
        print("ok")
    except Exception as error:
        print(getattr(error, "response", {}).get("Error", {}).get("Code", str(error)))
elif command == "shorten":
    import datetime
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=int(sys.argv[3]))
    s3.put_object_retention(Bucket=bucket, Key=sys.argv[2], Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until},
                            BypassGovernanceRetention=True)
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
