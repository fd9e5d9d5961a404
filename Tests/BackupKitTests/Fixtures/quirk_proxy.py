#!/usr/bin/env python3
"""An HTTP proxy between the suite and a real S3 server that records every request and
answers some of them the way real S3 services sometimes do.

Usage: quirk_proxy.py INFO_FILE UPSTREAM_PORT RULES_JSON PARENT_PID

Every request is forwarded to 127.0.0.1:UPSTREAM_PORT with its headers untouched (the Host
header too, so signatures still verify), and recorded as one JSON line in INFO_FILE.log:
method, path, query, whether it carried a length (Content-Length or Transfer-Encoding),
x-amz-copy-source, the access key and region of its signature, the session token's
presence, and the status the client got.

RULES_JSON is a list of rules; the first rule that matches a request and has uses left
acts instead of plain forwarding. A rule: {"match": M, "action": A, "count": N, ...}
  match: "any", "complete" (POST ?uploadId), "put" (PUT without uploadId), "part", "list"
  action:
    "503"       answers 503 SlowDown; with "retry_after": S, a Retry-After: S header
    "reset"     closes the connection without answering
    "error200"  answers 200 OK whose body is an <Error> InternalError document
    "lose"      forwards the request, then closes the connection without answering
    "nosuchupload" answers 404 NoSuchUpload (as servers do that forget a completed upload)
    "region"    answers 301 PermanentRedirect with x-amz-bucket-region: R ("region": R)
                while the request is signed for another region (count not used)
    "skew"      pretends this server's clock is "offset" seconds ahead: a request whose
                x-amz-date is more than 5 minutes off gets 403 RequestTimeTooSkewed with
                that Date (count not used)
    "notoken"   forwards a listing and says it is truncated, without a continuation token
    "sse501"    answers 501 NotImplemented to a request carrying x-amz-server-side-encryption
                (as Cloudflare R2 does)
    "cutget"    forwards a GetObject but sends only half its body, then closes the connection
    "changed"   answers 412 PreconditionFailed to a request carrying If-Match (as S3 does when
                the object was replaced since the ETag was read)
    "badkey"    forwards a listing and puts a key holding U+0001 (which XML 1.0 forbids) in
                the answer, URL-encoded when the request asked for encoding-type=url
INFO_FILE receives JSON {"port": N}. Stops when PARENT_PID is gone.
"""
import email.utils
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from loopback_server import serve

info_file, upstream_port, rules, parent_pid = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
lock = threading.Lock()
log = open(info_file + ".log", "a")

ERROR200 = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
            b'<Message>We encountered an internal error. Please try again.</Message></Error>')


def kind(method, query):
    if method == "POST" and "uploadId" in query:
        return "complete"
    if method == "PUT" and "uploadId" in query:
        return "part"
    if method == "PUT":
        return "put"
    if method == "GET" and ("list-type" in query or "uploads" in query):
        return "list"
    return "other"


def signature(headers):
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=([^/]+)/\d{8}/([^/]+)/", auth)
    return (m.group(1), m.group(2)) if m else (None, None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        has_length = "Content-Length" in self.headers or "Transfer-Encoding" in self.headers
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        access, region = signature(self.headers)
        what = kind(self.command, query)
        record = {"method": self.command, "path": parts.path, "query": sorted(query), "kind": what,
                  "has_length": has_length, "copy_source": self.headers.get("x-amz-copy-source"),
                  "access_key": access, "region": region, "token": "X-Amz-Security-Token" in self.headers,
                  "range": self.headers.get("Range"), "if_match": self.headers.get("If-Match"),
                  "time": time.time()}
        rule = self.pick(what, region)
        if rule and rule["action"] == "sse501" and "x-amz-server-side-encryption" not in self.headers:
            rule = None
        action = rule["action"] if rule else None
        if action == "reset":
            return self.finish_record(record, "reset", close=True)
        if action == "503":
            body503 = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>'
            extra = [("Retry-After", str(rule["retry_after"]))] if "retry_after" in rule else []
            return self.answer(record, 503, body503, extra)
        if action == "changed":
            doc = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one '
                   b'of the pre-conditions you specified did not hold</Message></Error>')
            return self.answer(record, 412, doc)
        if action == "sse501":
            doc = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>Header '
                   b"'x-amz-server-side-encryption' with value 'AES256' not implemented</Message></Error>")
            return self.answer(record, 501, doc)
        if action == "nosuchupload":
            doc = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified '
                   b'upload does not exist.</Message></Error>')
            return self.answer(record, 404, doc)
        if action == "error200":
            return self.answer(record, 200, ERROR200)
        if action == "region":
            doc = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket '
                   'you are attempting to access must be addressed using the specified endpoint.</Message></Error>').encode()
            return self.answer(record, 301, doc, [("x-amz-bucket-region", rule["region"])])
        if action == "skew":
            doc = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>RequestTimeTooSkewed</Code><Message>The difference '
                   b'between the request time and the current time is too large.</Message></Error>')
            return self.answer(record, 403, doc, [("Date", email.utils.formatdate(time.time() + rule["offset"], usegmt=True))])
        status, reason, headers, data, head_length = self.forward(body)
        if action == "lose":
            return self.finish_record(record, "lost after %d" % status, close=True)
        if action == "badkey" and status == 200:
            encoded = "encoding-type" in query
            key = ("%01" if encoded else "\x01").join(["injected", "key"])
            data = data.replace(b"</ListBucketResult>", ("<Contents><Key>%s</Key><Size>1</Size><LastModified>2020-01-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>" % key).encode())
        if action == "cutget" and status == 200:
            self.send_response_only(status, reason)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            return self.finish_record(record, "cut after %d of %d bytes" % (len(data) // 2, len(data)), close=True)
        if action == "notoken" and status == 200:
            data = re.sub(rb"<IsTruncated>false</IsTruncated>", b"<IsTruncated>true</IsTruncated>", data)
            data = re.sub(rb"<NextContinuationToken>.*?</NextContinuationToken>", b"", data)
        self.relay(record, status, reason, headers, data, head_length)

    def pick(self, what, region):
        with lock:
            for rule in rules:
                if rule["match"] not in ("any", what):
                    continue
                if rule["action"] == "region":
                    if region and region != rule["region"]:
                        return rule
                    continue
                if rule["action"] == "skew":
                    stamp = self.headers.get("x-amz-date", "")
                    try:
                        sent = time.mktime(time.strptime(stamp, "%Y%m%dT%H%M%SZ")) - time.timezone
                    except ValueError:
                        return rule
                    if abs(sent - (time.time() + rule["offset"])) > 300:
                        return rule
                    continue
                if rule["action"] == "sse501":
                    return rule
                if rule["action"] == "changed" and "If-Match" not in self.headers:
                    continue
                if rule["action"] == "cutget" and (self.command != "GET" or what != "other"):
                    continue
                if rule.get("count", 0) > 0:
                    rule["count"] -= 1
                    return rule
        return None

    def forward(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=120)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            conn.putheader(name, value)
        conn.endheaders(body if body else None)
        response = conn.getresponse()
        data = response.read()
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")]
        head_length = response.getheader("Content-Length", "0")
        conn.close()
        return response.status, response.reason, headers, data, head_length

    def answer(self, record, status, data, extra=()):
        headers = [("Content-Type", "application/xml")] + list(extra)
        if not any(k == "Date" for k, _ in headers):
            headers.append(("Date", email.utils.formatdate(usegmt=True)))
        self.relay(record, status, "Injected", headers, data)

    def relay(self, record, status, reason, headers, data, head_length="0"):
        self.send_response_only(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", head_length)
            data = b""
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.finish_record(record, status)

    def finish_record(self, record, outcome, close=False):
        record["outcome"] = outcome
        with lock:
            log.write(json.dumps(record) + "\n")
            log.flush()
        if close:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


serve(Handler, info_file, parent_pid)
