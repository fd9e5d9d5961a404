#!/usr/bin/env python3
"""A loopback HTTP server posing as a healthchecks.io / Uptime Kuma push endpoint.

Usage: ping_server.py INFO_FILE PARENT_PID [FAILURES]

Every request is logged as a JSON line in INFO_FILE.log: method, path, query, body. The first
FAILURES requests (default 0) are answered 503, the rest 200 "OK". INFO_FILE receives
{"port": N}. Stops when PARENT_PID is gone.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from loopback_server import serve

info_file, parent_pid = sys.argv[1], int(sys.argv[2])
failures = int(sys.argv[3]) if len(sys.argv) > 3 else 0
lock = threading.Lock()
log = open(info_file + ".log", "a")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        global failures
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        parts = urlsplit(self.path)
        with lock:
            status = 503 if failures > 0 else 200
            failures -= 1
            log.write(json.dumps({"method": self.command, "path": parts.path, "query": parts.query,
                                  "body": body, "status": status}) + "\n")
            log.flush()
        data = b"OK" if status == 200 else b"unavailable"
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_HEAD = handle_any


serve(Handler, info_file, parent_pid)
