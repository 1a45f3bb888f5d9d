"""An HTTP proxy on loopback that adds a fixed latency to every request it forwards.

The contacts-sync benchmark talks to the other Odoo through it to show what batching saves when
each round trip costs, say, 10 ms. The delay is per HTTP request (keep-alive connections carry
many), not per TCP packet: the proxy reads each request whole, waits, forwards it over a
connection of its own to the target and relays the answer. Both ends are on loopback only.

From Python::

    with DelayProxy(target_port=8070, delay=0.010) as proxy:
        requests.post(f"{proxy.url}/jsonrpc", json=...)
        proxy.requests                                  # how many were forwarded

From a shell: ``python3 bench/delay_proxy.py --target-port 8070 --port 8071 --delay-ms 10``.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import ipaddress
import threading
import time
from collections.abc import Callable

# Headers about one hop (RFC 9110 7.6.1); the proxy speaks for itself on each side.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


def _loopback(host: str) -> str:
    """``host`` when it is a literal loopback address; ValueError otherwise."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"{host} is not a loopback address: the proxy only serves loopback")
    return host


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as HTTP clients of JSON-RPC APIs use it
    server: _ProxyServer

    def _forward(self):
        proxy = self.server.proxy
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411, "chunked request bodies are not supported; send Content-Length")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        proxy.sleep(proxy.delay)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = self._upstream()
        try:
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            upstream.close()
            self.server.local.upstream = None
            self.send_error(502, f"target unreachable: {exc}")
            return
        with proxy.lock:
            proxy.requests += 1
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP | {"content-length"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _upstream(self) -> http.client.HTTPConnection:
        # One target connection per client connection (handler thread), reused across requests.
        local = self.server.local
        if getattr(local, "upstream", None) is None:
            proxy = self.server.proxy
            local.upstream = http.client.HTTPConnection(
                proxy.target_host, proxy.target_port, timeout=proxy.timeout
            )
        return local.upstream

    def handle(self):
        try:
            super().handle()
        finally:
            upstream = getattr(self.server.local, "upstream", None)
            if upstream is not None:
                upstream.close()
                self.server.local.upstream = None

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward

    def log_message(self, fmt, *args):
        pass  # a benchmark's output is its figures


class _ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, proxy: DelayProxy):
        self.proxy = proxy
        self.local = threading.local()
        super().__init__(address, _Handler)


class DelayProxy:
    """Forward HTTP from 127.0.0.1:``port`` to ``target_host:target_port``, ``delay`` s later.

    ``port`` 0 picks a free port (see ``url``). ``sleep`` is how the delay is spent
    (``time.sleep``; tests pass a recorder). ``requests`` counts the requests forwarded.
    """

    def __init__(
        self,
        target_port: int,
        delay: float = 0.010,
        target_host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 120,
        sleep: Callable[[float], object] = time.sleep,
    ):
        self.target_host = _loopback(target_host)
        self.target_port = target_port
        self.delay = delay
        self.port = port
        self.timeout = timeout
        self.sleep = sleep
        self.requests = 0
        self.lock = threading.Lock()
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The proxy's base URL (once started)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DelayProxy:
        """Listen and serve in a background thread; return self."""
        self._server = _ProxyServer(("127.0.0.1", self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="delay-proxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close the socket (requests in flight finish on their own)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> DelayProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--target-host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=0, help="listening port (default: free)")
    parser.add_argument("--delay-ms", type=float, default=10.0)
    args = parser.parse_args(argv)
    proxy = DelayProxy(args.target_port, args.delay_ms / 1000, args.target_host, args.port)
    with proxy:
        print(f"{proxy.url} -> http://{args.target_host}:{args.target_port}, +{args.delay_ms} ms")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
