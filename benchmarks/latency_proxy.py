"""A loopback HTTP proxy that adds a fixed round-trip delay, as if DynamoDB were in a region 20 ms away.

Run in its own process so its work never competes for the measured process's interpreter:
    python -m benchmarks.latency_proxy UPSTREAM_URL DELAY_MS
It prints the port it listens on, then serves until killed.
"""

from __future__ import annotations

import http.client
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "server", "date"}


def serve(upstream: str, delay_seconds: float) -> ThreadingHTTPServer:
    target = urlparse(upstream)
    local = threading.local()

    def connection() -> http.client.HTTPConnection:
        if getattr(local, "connection", None) is None:
            local.connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
        return local.connection

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
        disable_nagle_algorithm = True  # else headers and body as two segments wait on a delayed ACK (~40 ms)

        def log_message(self, *arguments: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(delay_seconds)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                upstream_connection = connection()
                upstream_connection.request("POST", self.path, body=body, headers=headers)
                response = upstream_connection.getresponse()
            except (OSError, http.client.HTTPException):
                local.connection = None
                upstream_connection = connection()
                upstream_connection.request("POST", self.path, body=body, headers=headers)
                response = upstream_connection.getresponse()
            data = response.read()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    upstream, delay_ms = sys.argv[1], float(sys.argv[2])
    server = serve(upstream, delay_ms / 1000)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
