"""Local HTTP(S) servers and a socket tripwire for tests of iHub's HTTP client.

``start_server(test)`` serves scripted answers on 127.0.0.1 (see :class:`Handler` for the paths)
and stops with the test; ``Tripwire().start(stack)`` records every socket connect and system
name lookup and fails before one would leave loopback.
"""

import datetime
import ipaddress
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# A secret the servers echo back in error answers: it must never show up in records or errors.
SECRET = "s3cr3t-Value!"

# requests.Session.send before Odoo's test classes patch it (see RequestsToIHubGuard).
_REAL_SEND = requests.Session.send


class RequestsToIHubGuard:
    """Mixin for Odoo test classes: requests go on to iHub's own guard.

    Odoo's test classes refuse requests to any host but 127.0.0.1 by URL, before iHub's guard
    would decide; tests of that guard need it to decide. Use it with a :class:`Tripwire`
    running, which fails before any connect that would leave loopback.
    """

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        return _REAL_SEND(s, r, **kw)


class TripwireError(AssertionError):
    """A connect or a lookup that would have left loopback (raised before it happens)."""


class Tripwire:
    """Record every socket connect and system lookup; refuse any that would leave loopback."""

    def __init__(self):
        self.connects, self.lookups = [], []

    def start(self, stack):
        real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo
        tripwire = self

        def connect(sock, address):
            host = address[0] if isinstance(address, tuple) else address
            tripwire.connects.append(host)
            if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
                raise TripwireError(f"connect to non-loopback {address} attempted")
            return real_connect(sock, address)

        def getaddrinfo(host, *args, **kwargs):
            try:
                ipaddress.ip_address(host)
            except ValueError:
                tripwire.lookups.append(host)
                raise TripwireError(f"system lookup of {host!r} attempted") from None
            return real_getaddrinfo(host, *args, **kwargs)

        stack.enter_context(mock.patch.object(socket.socket, "connect", connect))
        stack.enter_context(mock.patch.object(socket, "getaddrinfo", getaddrinfo))
        return self


class Handler(BaseHTTPRequestHandler):
    """Scripted answers by path; every request is counted and kept by the server."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="application/json", headers=()):
        body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_request(self):
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with server.lock:
            server.seen.append((self.command, self.path, dict(self.headers), body))
            count = sum(1 for seen in server.seen if urlsplit(seen[1]).path == parts.path)
        # The first known segment picks the answer, so that /api/v1/echo/x is an echo too.
        segments = parts.path.strip("/").split("/")
        route = next(getattr(self, f"route_{s}") for s in segments if hasattr(self, f"route_{s}"))
        route(query, count, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_request

    def route_echo(self, query, count, body):
        self.reply(
            200,
            {
                "server": self.server.name,
                "path": self.path,
                "headers": dict(self.headers),
                "body": body.decode(),
            },
        )

    def route_flaky(self, query, count, body):
        # /flaky?statuses=429,503&after=1,3600: those answers first, then 200.
        statuses = [int(s) for s in query.get("statuses", "").split(",") if s]
        waits = query.get("after", "").split(",")
        if count <= len(statuses):
            headers = [("Retry-After", waits[count - 1])] if waits[count - 1] else []
            self.reply(statuses[count - 1], {"error": "busy"}, headers=headers)
        else:
            self.reply(200, {"ok": True, "attempts": count})

    def route_status(self, query, count, body):
        code = int(urlsplit(self.path).path.split("/")[2])
        text = f'{{"error": "nope", "access_token": "leaked-token", "echo": "{SECRET}"}}'
        self.reply(code, text.encode())

    def route_drop(self, query, count, body):
        # Read the request, then hang up without an answer: it may have been processed.
        self.close_connection = True

    def route_slow(self, query, count, body):
        self.server.release.wait(10)
        self.reply(200, {"late": True})

    def route_redirect(self, query, count, body):
        self.reply(302, b"", headers=[("Location", query["to"])])

    def route_big(self, query, count, body):
        size = int(query.get("size", 10000))
        if query.get("stream"):
            # No Content-Length: the body ends when the connection closes.
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * size)
            self.close_connection = True
        else:
            self.reply(200, b"x" * size, "application/octet-stream")

    def route_html(self, query, count, body):
        self.reply(200, b"<!DOCTYPE html><html><body>Login</body></html>", "text/html")

    def route_badjson(self, query, count, body):
        self.reply(200, b'{"partners": [1, 2,', "application/json")

    def route_truncated(self, query, count, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.write(b'{"partners": [')
        self.close_connection = True

    def route_bearer(self, query, count, body):
        if self.headers.get("Authorization") == "Bearer fresh":
            self.reply(200, {"ok": True})
        else:
            self.reply(401, {"error": "expired"})


def start_server(test, host="127.0.0.1", port=0, name="A"):
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.name, server.seen, server.lock = name, [], threading.Lock()
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join()

    test.addCleanup(stop)
    return server


def self_signed_certificate(folder, host_name):
    """Write a certificate for ``host_name`` (its own CA) and its key; return their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    with open(cert_path, "wb") as file:
        file.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path
