"""A loopback proxy in front of a moto server that injects faults: DynamoDB's into BatchWriteItem calls, and
refusals of Query-protocol actions (CloudFormation's DescribeStacks, say) as AWS words them."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

THROTTLED = {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
             "message": "The level of configured provisioned throughput for the table was exceeded."}


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlparse(upstream)
        self.throttle = 0  # answer this many BatchWriteItem calls with a throttling error
        self.leave_unprocessed = 0  # answer this many with every item unprocessed
        self.drop = 0  # acknowledge this many without passing them on: writes DynamoDB reports done and never keeps
        self.injected = 0
        self.refuse: dict[str, tuple[int, str, str]] = {}  # Query-protocol Action -> (status, code, message), every call
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *arguments):  # quiet
                pass

            def answer(self, status, content_type, data):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                refusal = proxy._refusal(body)
                if refusal is not None:
                    self.answer(refusal[0], "text/xml", refusal[1])
                    return
                fault = proxy._fault(self.headers.get("X-Amz-Target", ""), body)
                if fault is not None:
                    self.answer(fault[0], "application/x-amz-json-1.0", json.dumps(fault[1]).encode())
                    return
                connection = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                connection.close()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _refusal(self, body: bytes):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        if action not in self.refuse:
            return None
        status, code, message = self.refuse[action]
        with self._lock:
            self.injected += 1
        return status, (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
                        "</Error><RequestId>ampflow-fault-proxy</RequestId></ErrorResponse>").encode()

    def _fault(self, target: str, body: bytes):
        if not target.endswith(".BatchWriteItem"):
            return None
        with self._lock:
            if self.throttle > 0:
                self.throttle -= 1
                self.injected += 1
                return 400, THROTTLED
            if self.leave_unprocessed > 0:
                self.leave_unprocessed -= 1
                self.injected += 1
                return 200, {"UnprocessedItems": json.loads(body)["RequestItems"]}
            if self.drop > 0:
                self.drop -= 1
                self.injected += 1
                return 200, {"UnprocessedItems": {}}
        return None

    def __enter__(self) -> "FaultProxy":
        self.thread.start()
        return self

    def __exit__(self, *exception) -> None:
        self.server.shutdown()
        self.server.server_close()
