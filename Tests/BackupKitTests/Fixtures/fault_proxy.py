#!/usr/bin/env python3
"""A fault-injecting TCP proxy between the suite and moto, for retry tests.

Usage: fault_proxy.py INFO_FILE UPSTREAM_PORT MODE COUNT PARENT_PID

For the first COUNT connections it injects a fault instead of relaying:
  503    reads the request head and answers 503 SlowDown-style errors, then closes;
  reset  reads the request head and closes the connection without answering.
Every later connection is relayed to 127.0.0.1:UPSTREAM_PORT untouched. INFO_FILE gets
JSON {"port": N}; the file INFO_FILE.count holds the number of faults injected so far.
Stops when PARENT_PID is gone.
"""
import json
import os
import socket
import sys
import threading
import time

info_file, upstream_port, mode, count, parent_pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
lock = threading.Lock()
faults = 0

BODY = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
        b'<Message>Please reduce your request rate.</Message></Error>')


def read_head(conn):
    data = b""
    conn.settimeout(10)
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def pipe(src, dst):
    try:
        while True:
            chunk = src.recv(65536)
            if not chunk:
                break
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(conn):
    global faults
    with lock:
        inject = faults < count
        if inject:
            faults += 1
            with open(info_file + ".count", "w") as out:
                out.write(str(faults))
    if inject:
        read_head(conn)
        if mode == "503":
            conn.sendall(b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nConnection: close\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY)
        conn.close()
        return
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    threading.Thread(target=pipe, args=(conn, upstream), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, conn), daemon=True).start()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
tmp = info_file + ".tmp"
with open(tmp, "w") as out:
    json.dump({"port": listener.getsockname()[1]}, out)
os.rename(tmp, info_file)


def watch_parent():
    while True:
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        time.sleep(0.5)


threading.Thread(target=watch_parent, daemon=True).start()
while True:
    conn, _ = listener.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
