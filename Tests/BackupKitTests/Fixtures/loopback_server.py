"""Serving a test fixture's HTTP handler on a free loopback port, shared by quirk_proxy.py
and cred_server.py: writes {"port": N} to the info file once listening, and exits when the
test process that started it is gone."""
import json
import os
import threading
import time
from http.server import ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def serve(handler, info_file, parent_pid):
    server = _Server(("127.0.0.1", 0), handler)
    tmp = info_file + ".tmp"
    with open(tmp, "w") as out:
        json.dump({"port": server.server_address[1]}, out)
    os.rename(tmp, info_file)

    def watch_parent():
        while True:
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever()
