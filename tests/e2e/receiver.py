#!/usr/bin/env python3
"""A stand-in for the Allstacks server (and a release-asset mirror) for the e2e tests.

Listens on 127.0.0.1 only, on a free port that it writes to --port-file. Every request is
appended to --log as one JSON line: method, path, headers (lower-case names), body (text)
and, when the body is JSON, the parsed document under "json". POSTs are answered 201 with
a small JSON body; GETs under /dl/ serve files from --files (release assets); anything else
is 404. Exits by itself after --time-limit seconds (or on SIGTERM/SIGINT).

Two more roles, for the release tests:

- a flaky mirror: /flaky/PATH serves /dl/PATH, but the first request for each path is
  answered 503 and the second is cut off halfway through the body (a partial download);
  the third gets the file. /down/PATH always answers 503.
- a container registry that works like GHCR for anonymous clients: GET /v2/NAME/manifests/TAG
  answers 401 with a Bearer challenge naming /token, /token hands out an anonymous token, and
  the manifest is served with that token only for names under `public/` (others stay 401,
  as a private package does).
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


class Handler(BaseHTTPRequestHandler):
    server_version = "e2e-receiver/1"

    def _record(self, body: bytes) -> None:
        text = body.decode("utf-8", errors="replace")
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = None
        entry = {
            "time": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": text,
            "json": doc,
        }
        with self.server.lock:  # type: ignore[attr-defined]
            with open(self.server.log_path, "a", encoding="utf-8") as f:  # type: ignore[attr-defined]
                f.write(json.dumps(entry) + "\n")

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY))
        self._record(body)
        self.server.posts += 1  # type: ignore[attr-defined]
        self._send(201, json.dumps({"id": self.server.posts}).encode())  # type: ignore[attr-defined]

    def _file(self, rel: str):
        root = self.server.files  # type: ignore[attr-defined]
        if not root:
            return None
        full = os.path.realpath(os.path.join(root, rel))
        if full.startswith(os.path.realpath(root) + os.sep) and os.path.isfile(full):
            with open(full, "rb") as f:
                return f.read()
        return None

    def do_GET(self) -> None:  # noqa: N802
        self._record(b"")
        path = self.path.split("?", 1)[0]
        if path.startswith("/dl/"):
            body = self._file(path[len("/dl/"):])
            if body is not None:
                return self._send(200, body, "application/octet-stream")
        elif path.startswith("/flaky/"):
            return self._flaky(path[len("/flaky/"):])
        elif path.startswith("/down/"):
            return self._send(503, b'{"error": "down"}')
        elif path.startswith("/v2/") or path == "/token":
            return self._registry(path)
        self._send(404, b'{"error": "not found"}')

    def _flaky(self, rel: str) -> None:
        with self.server.lock:  # type: ignore[attr-defined]
            seen = self.server.flaky.get(rel, 0)  # type: ignore[attr-defined]
            self.server.flaky[rel] = seen + 1  # type: ignore[attr-defined]
        body = self._file(rel)
        if body is None:
            return self._send(404, b'{"error": "not found"}')
        if seen == 0:
            return self._send(503, b'{"error": "try again"}')
        if seen == 1:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(200, body, "application/octet-stream")

    def _registry(self, path: str) -> None:
        host = "127.0.0.1:%d" % self.server.server_address[1]
        if path == "/token":
            return self._send(200, json.dumps({"token": "anonymous-pull"}).encode())
        name, _, _tag = path[len("/v2/"):].rpartition("/manifests/")
        auth = self.headers.get("Authorization", "")
        if auth == "Bearer anonymous-pull" and name.startswith("public/"):
            manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
            return self._send(200, json.dumps(manifest).encode(), "application/vnd.oci.image.index.v1+json")
        challenge = 'Bearer realm="http://%s/token",service="%s",scope="repository:%s:pull"' % (host, host, name)
        body = b'{"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}'
        self.send_response(401)
        self.send_header("WWW-Authenticate", challenge)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        sys.stderr.write("receiver: %s %s\n" % (self.address_string(), format % args))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--log", required=True, help="JSON-lines file to append requests to")
    ap.add_argument("--port-file", required=True, help="file to write the chosen port to")
    ap.add_argument("--files", default="", help="directory served under /dl/")
    ap.add_argument("--time-limit", type=float, default=900, help="seconds before exiting")
    args = ap.parse_args()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.lock = threading.Lock()  # type: ignore[attr-defined]
    srv.log_path = args.log  # type: ignore[attr-defined]
    srv.files = args.files  # type: ignore[attr-defined]
    srv.posts = 0  # type: ignore[attr-defined]
    srv.flaky = {}  # type: ignore[attr-defined]
    open(args.log, "a").close()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, args.port_file)

    stop.wait(args.time_limit)
    srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
