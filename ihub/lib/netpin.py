"""Connections that go to the address the SSRF guard checked, and nowhere else.

``ihub.lib.http`` checks a URL with :func:`ihub.lib.netguard.check_url`, then sends the request
inside ``with pinned(target):``. urllib3 connections made by the pools in :data:`POOL_CLASSES`
open their socket to one of ``target.addresses`` instead of looking the name up again, so a name
that resolves elsewhere a moment later (DNS rebinding) cannot redirect the connection; a
connection opened outside ``pinned`` (or for another host) is refused. A kept-alive connection
to an address the current check did not return is closed and opened again.
"""

import contextlib
import contextvars

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError

from .netguard import NetworkRefused

# The target the current request checked: the only place its connections may go.
_PIN = contextvars.ContextVar("ihub_pinned_target", default=None)


@contextlib.contextmanager
def pinned(target):
    """Let connections opened inside the block go to ``target.addresses`` (a netguard Target)."""
    token = _PIN.set(target)
    try:
        yield target
    finally:
        _PIN.reset(token)


def _same_endpoint(target, host, port):
    def norm(name):
        return name.strip("[]").rstrip(".").lower()

    return norm(target.host) == norm(host) and target.port == port


class _PinnedConnectionMixin:
    """Open the socket to an address the guard checked, never to a fresh lookup of the name.

    Everything else (Host header, SNI, certificate check) keeps using the name: only
    ``_dns_host``, which urllib3 uses for nothing but opening the socket, is swapped.
    """

    ihub_address = None

    def _new_conn(self):
        target = _PIN.get()
        if target is None or not _same_endpoint(target, self._dns_host, self.port):
            raise NetworkRefused(f"iHub refused an unchecked connection to {self.host}:{self.port}")
        name, error = self._dns_host, None
        for address in target.addresses:
            self._dns_host = address
            try:
                sock = super()._new_conn()
            except ConnectTimeoutError as exc:  # NewConnectionError too: try the next address
                error = exc
                continue
            finally:
                self._dns_host = name
            self.ihub_address = address
            return sock
        raise error


class _PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class _PinnedPoolMixin:
    def _get_conn(self, timeout=None):
        # A kept-alive connection may lead to an address an earlier check allowed but this one
        # did not return: close it so that the request goes to an address checked now.
        conn = super()._get_conn(timeout)
        target = _PIN.get()
        if getattr(conn, "sock", None) is not None and (
            target is None or conn.ihub_address not in target.addresses
        ):
            conn.close()
        return conn


class _PinnedHTTPConnectionPool(_PinnedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSConnectionPool(_PinnedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


POOL_CLASSES = {"http": _PinnedHTTPConnectionPool, "https": _PinnedHTTPSConnectionPool}
