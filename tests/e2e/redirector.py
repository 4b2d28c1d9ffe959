#!/usr/bin/env python3
"""An https mirror that sends every download elsewhere, for the installers' tests.

Listens on 127.0.0.1 only, over TLS with --cert/--key, on a free port that it writes to
--port-file, and answers every GET with `302 Location: {--to}{path}` (a plain-http URL in the
tests): an installer given an https download URL must not follow it to http, where the binary
and its checksum could both be changed on the way. Each request is appended to --log (one
line: the path). Exits by itself after --time-limit seconds (or on SIGTERM/SIGINT).
"""

import argparse
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--time-limit", type=float, default=900)
    args = p.parse_args()

    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with lock, open(args.log, "a", encoding="utf-8") as f:
                f.write(self.path + "\n")
            self.send_response(302)
            self.send_header("Location", args.to.rstrip("/") + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(args.port_file, "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    # A daemon timer: on SIGTERM the process ends at once, not when the timer fires.
    timer = threading.Timer(args.time_limit, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
