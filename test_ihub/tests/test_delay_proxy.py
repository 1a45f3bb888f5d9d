"""bench/delay_proxy.py: forwards HTTP requests on loopback, each one after the delay."""

import http.client
import http.server
import json
import sys
import threading
from pathlib import Path

from odoo.tests import BaseCase

_BENCH = str(Path(__file__).resolve().parents[2] / "bench")
if _BENCH not in sys.path:
    sys.path.insert(0, _BENCH)

from delay_proxy import DelayProxy  # noqa: E402


class _Echo(http.server.BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.command, self.path))
        payload = json.dumps(
            {"method": self.command, "path": self.path, "body": body.decode()}
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Echo", "yes")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST

    def log_message(self, fmt, *args):
        pass


class TestDelayProxy(BaseCase):
    def setUp(self):
        super().setUp()
        self.target = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
        self.target.seen = []
        thread = threading.Thread(target=self.target.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(self.target.server_close)
        self.addCleanup(self.target.shutdown)
        self.sleeps = []
        self.proxy = DelayProxy(
            self.target.server_address[1], delay=0.01, sleep=self.sleeps.append
        ).start()
        self.addCleanup(self.proxy.stop)

    def test_forwards_each_request_of_a_connection_after_the_delay(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=10)
        self.addCleanup(connection.close)
        answers = []
        for number in (1, 2, 3):  # one keep-alive connection: the delay is per request
            connection.request("POST", f"/jsonrpc?n={number}", body=f'{{"n": {number}}}')
            response = connection.getresponse()
            answers.append((response.status, response.getheader("X-Echo"), response.read()))
        self.assertEqual(
            [(status, echo, json.loads(body)) for status, echo, body in answers],
            [
                (201, "yes", {"method": "POST", "path": f"/jsonrpc?n={n}", "body": f'{{"n": {n}}}'})
                for n in (1, 2, 3)
            ],
        )
        self.assertEqual(self.sleeps, [0.01, 0.01, 0.01])
        self.assertEqual(self.proxy.requests, 3)
        self.assertEqual(len(self.target.seen), 3)

    def test_an_unreachable_target_is_a_bad_gateway(self):
        self.target.shutdown()
        self.target.server_close()
        connection = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=10)
        self.addCleanup(connection.close)
        connection.request("GET", "/")
        self.assertEqual(connection.getresponse().status, 502)
        self.assertEqual(self.proxy.requests, 0)

    def test_only_loopback_targets(self):
        with self.assertRaisesRegex(ValueError, "not a loopback address"):
            DelayProxy(8069, target_host="10.0.0.1")
