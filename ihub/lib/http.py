"""iHub's HTTP client: a ``requests.Session`` that is safe to point at other systems.

:func:`build_session` returns an :class:`IHubSession`. Compared with a bare session it

- resolves paths against ``base_url`` (``session.get("/partners")`` with base
  ``https://h/v1`` asks ``https://h/v1/partners``); absolute URLs pass (and are checked);
- puts a (connect, read) timeout on every request and a cap on every answer's size: the body
  is read whole within the cap before a call returns (``stream=True`` changes nothing; pass
  ``max_response_bytes=`` to a call that downloads more);
- retries idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE) on connection errors, 429 and
  502/503/504 with exponential backoff through urllib3's ``Retry``, waiting what ``Retry-After``
  asks up to ``max_retry_after`` seconds; POST and PATCH are retried only when the connection
  was never made, as anything later may have reached the server;
- checks every request and every redirect hop with :mod:`ihub.lib.netguard` and connects to the
  exact address it checked (the name is resolved once; TLS still verifies the certificate for the
  name, SNI and the Host header carry the name; see :mod:`ihub.lib.netpin`), so DNS rebinding
  cannot slip past the check;
- hands a record of every exchange (each attempt, each hop) to ``recorder``, URL redacted;
- turns every failure into an iHub exception naming the request: connection errors and timeouts
  are ``IHubError`` (retried by runs), 401/403 ``IHubAuthError`` (permanent), other statuses
  >= 400 ``IHubHTTPError``; a refused address ``NetworkRefused`` (permanent).

Environment proxies, ``.netrc`` and ``REQUESTS_CA_BUNDLE`` are ignored (``trust_env`` is off): a
proxy would connect to addresses the guard never saw. Pass ``verify=`` for a private CA.

Example::

    session = build_session(
        "https://api.example.com/v1",
        auth=HeaderAuth("X-Api-Key", key),  # from ihub/lib/auth.py
        user_agent="iHub/18.0 (Shop orders)",
        recorder=exchanges.append,
    )
    partners = session.get_json("/partners", params={"page": 2})
    session.post_json("/partners", json={"name": "Azure"}, expected_status=(409,))
    response = session.get("/partners/7", expected_status=(404,))  # a Response, even for 404

Authentication is any ``requests.auth.AuthBase``: ``requests.auth.HTTPBasicAuth`` or those of
``ihub/lib/auth.py`` (bearer, API key in a header or a parameter, OAuth2). An auth object may
refresh an expired token and retry once on a 401 through a response hook (the retry goes
through the same guard, records and size cap), as ``OAuth2TokenAuth`` does. An auth object's
``ihub_secrets()`` (if it has one) lists values to redact.
"""

import contextvars
import json as jsonlib
import logging
import time

import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util.retry import Retry

from .exceptions import IHubError, IHubPermanentError
from .netguard import NetworkRefused, check_url
from .netpin import POOL_CLASSES, pinned
from .redact import is_sensitive_header, redact_text, redact_url

_logger = logging.getLogger(__name__)

DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = (429, 502, 503, 504)
# Bodies in exchange records (debug only) and excerpts in error messages are cut at these sizes.
DEBUG_BODY_CHARS = 4000
EXCERPT_CHARS = 300
_CHUNK = 64 * 1024

# Per-call options of IHubSession.request, seen by the adapter for every hop of that call.
_CALL_CAP = contextvars.ContextVar("ihub_http_cap", default=None)


class IHubHTTPError(IHubError):
    """The other system answered with an unexpected status (>= 400 unless expected).

    ``status`` is the HTTP status, ``response`` the ``requests.Response`` (body already read).
    Runs retry it: 429 and 5xx usually pass; other 4xx usually need a person.
    """

    def __init__(self, message, *, status=None, response=None):
        super().__init__(message)
        self.status = status
        self.response = response


class IHubAuthError(IHubHTTPError, IHubPermanentError):
    """401 or 403 (after the auth object had its chance to refresh): not retried by runs."""


def _auth_secrets(auth):
    """The secrets an auth object sends (``ihub/lib/auth.py`` objects tell), to mask them."""
    if isinstance(auth, HTTPBasicAuth):
        return [auth.password]
    getter = getattr(auth, "ihub_secrets", None)
    return list(getter()) if callable(getter) else []


# ---- Errors --------------------------------------------------------------------------------------


def _urllib3_error(exc):
    """The urllib3 error behind a requests exception (or ``exc`` itself), else None."""
    inner = exc.args[0] if isinstance(exc, requests.RequestException) and exc.args else exc
    if isinstance(inner, MaxRetryError):
        inner = inner.reason
    return inner if isinstance(inner, Urllib3Error | OSError) else None


def _describe(error, timeouts):
    """A short, secret-free sentence for a transport failure (before redaction)."""
    inner = _urllib3_error(error) or error
    connect, read = timeouts if isinstance(timeouts, tuple) else (timeouts, timeouts)
    if isinstance(inner, NewConnectionError):
        cause = inner.__cause__ or inner.__context__
        return f"could not connect ({cause or 'connection failed'})"
    if isinstance(inner, ConnectTimeoutError):
        return f"could not connect within {connect} s (connect timeout)"
    if isinstance(inner, ReadTimeoutError):
        return f"no answer within {read} s (read timeout)"
    if isinstance(inner, ProtocolError):
        if "IncompleteRead" in str(inner) or "InvalidChunkLength" in str(inner):
            return "the answer was cut short (truncated body)"
        return f"the connection broke ({inner.args[0] if inner.args else inner})"
    if isinstance(inner, SSLError):
        return f"TLS failed ({inner})"
    return f"{type(inner).__name__}: {inner}"


def _excerpt(response, secrets):
    try:
        text = response.content[: EXCERPT_CHARS * 4].decode(response.encoding or "utf-8", "replace")
    except (LookupError, RuntimeError):
        return ""
    text = " ".join(text.split())
    text = text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")
    return redact_text(text, secrets)


def _body_text(body, secrets):
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body[: DEBUG_BODY_CHARS * 4].decode("utf-8", "replace")
    elif not isinstance(body, str):
        return "<streamed body>"
    return redact_text(body[:DEBUG_BODY_CHARS], secrets)


def _body_size(body):
    if body is None:
        return 0
    if isinstance(body, bytes | str):
        return len(body.encode() if isinstance(body, str) else body)
    return None


# ---- The adapter: one hop, with its retries ------------------------------------------------------


class GuardedAdapter(HTTPAdapter):
    """Send one request (one hop): guard, pin, throttle, retries, size cap and records."""

    def __init__(self, session):
        self.session = session
        super().__init__(max_retries=Retry(0, read=False))

    def init_poolmanager(self, *args, **kwargs):
        result = super().init_poolmanager(*args, **kwargs)
        # A dict of our own: urllib3's default one is shared by every PoolManager.
        self.poolmanager.pool_classes_by_scheme = dict(POOL_CLASSES)
        return result

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        session = self.session
        if proxies and any(proxies.values()):
            raise NetworkRefused(
                f"iHub refused {redact_url(request.url)}: requests through a proxy are not allowed"
            )
        timeout = timeout or session.timeouts
        retry = session.retry
        attempt = 0
        while True:
            attempt += 1
            response, error = self._attempt(request, timeout, verify, cert, attempt)
            if error is not None:
                inner = _urllib3_error(error)
                # "from None": the requests/urllib3 exception names the URL unredacted, and a
                # logged traceback would print it. The message says what went wrong.
                if inner is None:
                    raise session.transport_error(request, error, timeout) from None
                try:
                    retry = retry.increment(request.method, request.url, error=inner)
                except (Urllib3Error, OSError):
                    # Retry re-raises the error when it may not be retried, or gives up.
                    raise session.transport_error(request, error, timeout) from None
                self._wait(retry, None)
                continue
            has_retry_after = "Retry-After" in response.headers
            if not retry.is_retry(request.method, response.status_code, has_retry_after):
                return response
            try:
                retry = retry.increment(request.method, request.url, response=response.raw)
            except MaxRetryError:
                return response
            self._wait(retry, response)

    def _wait(self, retry, response):
        wait = None
        if response is not None and retry.respect_retry_after_header:
            wait = retry.get_retry_after(response.raw)
            if wait is not None:
                wait = min(wait, self.session.max_retry_after)
        if wait is None:
            wait = retry.get_backoff_time()
        if wait > 0:
            self.session.sleep(wait)

    def _attempt(self, request, timeout, verify, cert, attempt):
        """Send once; return ``(response, None)`` or ``(None, transport error)``."""
        session = self.session
        if session.throttle is not None:
            session.throttle()
        exchange = {
            "method": request.method,
            "url": redact_url(request.url, session.secrets()),
            "status": None,
            "duration_ms": 0,
            "request_bytes": _body_size(request.body),
            "response_bytes": 0,
            "error": None,
            "attempt": attempt,
        }
        if session.debug_bodies:
            exchange["request_body"] = _body_text(request.body, session.secrets())
            exchange["response_body"] = None
        started = time.monotonic()
        response = error = None
        body_read = False
        try:
            target = check_url(
                request.url, allow_private=session.allow_private, resolver=session.resolver
            )
            with pinned(target):
                # requests' own send, always streamed: _read_body reads within the cap.
                response = HTTPAdapter.send(self, request, True, timeout, verify, cert, None)
                exchange["status"] = response.status_code
                exchange["response_bytes"] = self._read_body(request, response)
                body_read = True
        except (requests.RequestException, Urllib3Error, OSError) as exc:
            error = exc
            exchange["error"] = redact_text(_describe(exc, timeout), session.secrets())
            if response is not None:
                response.close()
                response = None
        except IHubError as exc:
            exchange["error"] = redact_text(str(exc), session.secrets())
            raise
        finally:
            exchange["duration_ms"] = round((time.monotonic() - started) * 1000)
            if session.debug_bodies and body_read:
                exchange["response_body"] = _body_text(response.content, session.secrets())
            session.record(exchange)
        return response, error

    def _read_body(self, request, response):
        """Read the whole body into ``response`` within the cap; return the bytes on the wire."""
        cap = _CALL_CAP.get() or self.session.max_response_bytes
        raw = response.raw
        # A HEAD answer, 204 and 304 have no body whatever their Content-Length says.
        bodiless = request.method == "HEAD" or response.status_code in (204, 304)
        declared = "" if bodiless else response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.close()
            raise self.session.too_large(request, cap)
        chunks, size = [], 0
        for chunk in raw.stream(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > cap:
                response.close()
                raise self.session.too_large(request, cap)
            chunks.append(chunk)
        response._content = b"".join(chunks)
        response._content_consumed = True
        wire = raw.tell()
        if declared.isdigit() and wire < int(declared):
            # urllib3 enforces Content-Length itself; this catches versions that do not.
            response.close()
            raise ProtocolError(f"IncompleteRead({wire} bytes read, {int(declared) - wire} more)")
        raw.release_conn()
        return wire


# ---- The session -------------------------------------------------------------------------------


class IHubSession(requests.Session):
    """A ``requests.Session`` with iHub's guard, retries, records and errors; see the module.

    Extra keyword arguments of ``request`` (and ``get``, ``post``, …): ``expected_status``, the
    statuses >= 400 to return instead of raising, and ``max_response_bytes`` for this call.
    """

    def __init__(self):
        super().__init__()
        self.trust_env = False
        self.base_url = None
        self.timeouts = (5, 30)
        self.retry = Retry(0)
        self.max_retry_after = 60
        self.max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES
        self.allow_private = False
        self.resolver = None
        self.recorder = None
        self.static_secrets = []
        self.debug_bodies = False
        self.throttle = None
        # Tests replace it to see the waits without waiting.
        self.sleep = time.sleep
        adapter = GuardedAdapter(self)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def secrets(self):
        """Values to mask everywhere: those given to build_session and the auth's current ones."""
        return [s for s in [*self.static_secrets, *_auth_secrets(self.auth)] if s]

    def record(self, exchange):
        _logger.debug(
            "%s %s -> %s in %s ms%s",
            exchange["method"],
            exchange["url"],
            exchange["status"],
            exchange["duration_ms"],
            f" ({exchange['error']})" if exchange["error"] else "",
        )
        if self.recorder is not None:
            self.recorder(exchange)

    def url_for(self, url):
        """``url`` if absolute, else ``base_url`` + ``url`` (``/partners`` appends a segment)."""
        if "://" in str(url) or not self.base_url:
            return url
        return f"{self.base_url.rstrip('/')}/{str(url).lstrip('/')}"

    def label(self, request_or_method, url=None):
        """``GET https://host/path?api_key=***``: how messages name a request."""
        if url is None:
            request_or_method, url = request_or_method.method, request_or_method.url
        return f"{request_or_method} {redact_url(url, self.secrets())}"

    def transport_error(self, request, error, timeouts):
        message = f"{self.label(request)} failed: {_describe(error, timeouts)}"
        return IHubError(redact_text(message, self.secrets()))

    def too_large(self, request, cap):
        return IHubError(f"{self.label(request)} failed: the answer is larger than {cap} bytes")

    def request(self, method, url, *args, expected_status=(), max_response_bytes=None, **kwargs):
        """Send a request (see ``requests.Session.request``) and check its status.

        Raises ``IHubAuthError`` for 401/403, ``IHubHTTPError`` for other statuses >= 400 not in
        ``expected_status``, ``IHubError`` for transport failures, ``NetworkRefused`` for a
        refused address.
        """
        method = method.upper()
        url = self.url_for(url)
        token = _CALL_CAP.set(max_response_bytes)
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.exceptions.InvalidSchema:
            raise NetworkRefused(
                f"iHub refused {redact_url(url, self.secrets())}: only http and https URLs are "
                "allowed"
            ) from None
        except requests.RequestException as exc:
            message = f"{self.label(method, url)} failed: {exc}"
            # Not chained, like transport errors: the cause holds the URL unredacted.
            raise IHubError(redact_text(message, self.secrets())) from None
        finally:
            _CALL_CAP.reset(token)
        if response.status_code >= 400 and response.status_code not in expected_status:
            raise self.status_error(response)
        return response

    def status_error(self, response):
        """The exception for an unexpected status, with a short redacted excerpt of the body."""
        status = response.status_code
        message = f"{self.label(response.request)} answered {status} {response.reason or ''}"
        excerpt = _excerpt(response, self.secrets())
        if excerpt:
            message = f"{message.rstrip()}: {excerpt}"
        message = redact_text(message, self.secrets())
        error_class = IHubAuthError if status in (401, 403) else IHubHTTPError
        return error_class(message, status=status, response=response)

    def rebuild_auth(self, prepared_request, response):
        """Also drop credential headers other than Authorization when a redirect changes host."""
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in [n for n in prepared_request.headers if is_sensitive_header(n)]:
                del prepared_request.headers[name]
        return super().rebuild_auth(prepared_request, response)

    def request_json(self, method, url, **kwargs):
        """Send a request and return its parsed JSON answer (None for an empty 204-like answer).

        Raises ``IHubError`` naming the request when the answer is HTML, not JSON, or truncated.
        """
        kwargs.setdefault("headers", {}).setdefault("Accept", "application/json")
        response = self.request(method, url, **kwargs)
        label = self.label(response.request)
        body = response.content
        if not body.strip():
            if response.status_code == 204 or method.upper() == "HEAD":
                return None
            raise IHubError(f"{label} answered {response.status_code} with an empty body")
        content_type = response.headers.get("Content-Type", "").lower()
        if "html" in content_type or body.lstrip()[:1] == b"<":
            raise IHubError(
                f"{label} answered HTML instead of JSON ({response.status_code}): "
                f"{_excerpt(response, self.secrets())}"
            )
        try:
            return jsonlib.loads(body)
        except ValueError as exc:
            raise IHubError(
                f"{label} answered invalid JSON ({getattr(exc, 'msg', exc)} at position "
                f"{getattr(exc, 'pos', '?')}): {_excerpt(response, self.secrets())}"
            ) from None

    def get_json(self, url, **kwargs):
        """``GET`` and return the parsed JSON answer; see :meth:`request_json`."""
        return self.request_json("GET", url, **kwargs)

    def post_json(self, url, json=None, **kwargs):
        """``POST`` ``json`` and return the parsed JSON answer; see :meth:`request_json`."""
        return self.request_json("POST", url, json=json, **kwargs)


def build_session(
    base_url=None,
    *,
    timeouts=(5, 30),
    retries=3,
    backoff_factor=0.5,
    max_retry_after=60,
    user_agent="iHub",
    max_response_bytes=DEFAULT_MAX_RESPONSE_BYTES,
    allow_private=False,
    resolver=None,
    auth=None,
    recorder=None,
    secrets=(),
    debug_bodies=False,
    throttle=None,
):
    """Return an :class:`IHubSession` configured as the module docstring describes.

    ``allow_private`` and ``resolver`` go to :func:`ihub.lib.netguard.check_url`. ``recorder``
    is called with a dict per exchange: method, url (redacted), status, duration_ms,
    request_bytes, response_bytes, error, attempt, and request_body/response_body (cut and
    redacted) when ``debug_bodies``. ``throttle()`` is called before every attempt and may sleep.
    ``secrets`` are masked in records, logs and errors, as are ``auth``'s.
    """
    session = IHubSession()
    session.base_url = base_url
    session.timeouts = timeouts
    session.retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        allowed_methods=IDEMPOTENT_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session.max_retry_after = max_retry_after
    session.max_response_bytes = max_response_bytes
    session.allow_private = allow_private
    session.resolver = resolver
    session.auth = auth
    session.recorder = recorder
    session.static_secrets = [str(s) for s in secrets if s]
    session.debug_bodies = debug_bodies
    session.throttle = throttle
    session.headers["User-Agent"] = user_agent
    return session
