#!/usr/bin/env python3
"""A loopback HTTP server posing as the EC2 instance metadata service (IMDSv2) and as the
container credentials endpoint, for the credential chain tests.

Usage: cred_server.py INFO_FILE PARENT_PID CONFIG_JSON

CONFIG_JSON: {"imds": [[access, secret, seconds_valid], ...], "container": [access, secret],
              "container_token": TOKEN}
IMDSv2: PUT /latest/api/token (with X-aws-ec2-metadata-token-ttl-seconds) gives a token;
GET /latest/meta-data/iam/security-credentials/ and .../backup-role need it (401 without).
The n-th credentials fetch gets imds[n] (the last one from then on), expiring seconds_valid
from now. Container: GET /creds needs Authorization: TOKEN. Every request is logged as a JSON
line in INFO_FILE.log. INFO_FILE receives {"port": N}. Stops when PARENT_PID is gone.
"""
import datetime
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler

from loopback_server import serve

info_file, parent_pid, config = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
TOKEN = "imds-session-token-%s" % os.urandom(4).hex()
lock = threading.Lock()
fetches = 0
log = open(info_file + ".log", "a")


def credentials(access, secret, seconds):
    # No "Token": the keys are SeaweedFS identities, and SeaweedFS reads a security token as
    # a session of its own STS. (Tokens are covered by the web identity test against moto.)
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": access, "SecretAccessKey": secret,
            "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with lock:
            log.write(json.dumps({"method": self.command, "path": self.path, "status": status,
                                  "imds_token": self.headers.get("X-aws-ec2-metadata-token") == TOKEN,
                                  "authorization": self.headers.get("Authorization")}) + "\n")
            log.flush()

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(200, TOKEN)
        self.reply(400, "bad request")

    def do_GET(self):
        global fetches
        if self.path.startswith("/latest/"):
            if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                return self.reply(401, "unauthorized")
            if self.path == "/latest/meta-data/iam/security-credentials/":
                return self.reply(200, "backup-role")
            if self.path == "/latest/meta-data/iam/security-credentials/backup-role":
                with lock:
                    entry = config["imds"][min(fetches, len(config["imds"]) - 1)]
                    fetches += 1
                return self.reply(200, json.dumps(credentials(*entry)), "application/json")
        if self.path == "/creds":
            if self.headers.get("Authorization") != config.get("container_token"):
                return self.reply(401, json.dumps({"message": "unauthorized"}), "application/json")
            access, secret = config["container"]
            return self.reply(200, json.dumps(credentials(access, secret, 6 * 3600)), "application/json")
        self.reply(404, "not found")


serve(Handler, info_file, parent_pid)
