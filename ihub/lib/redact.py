"""Masking secrets in URLs, headers and text before they reach events, logs, runs or errors.

Anything iHub writes about an HTTP exchange passes through here first. Three kinds of secrets are
masked: values the caller names (``secrets``: the integration's key, password or token, also in
their URL-encoded forms), values whose name says they are secret (``?api_key=…``,
``"access_token": "…"``, ``Authorization: …``), and the password of a URL's ``user:password@``.

Example::

    redact_url("https://u:pw@api.example.com/x?api_key=abc&page=2")
    # 'https://u:***@api.example.com/x?api_key=***&page=2'
    redact_text('{"access_token": "eyJ…", "n": 1} sent with s3cr3t', secrets=["s3cr3t"])
    # '{"access_token": "***", "n": 1} sent with ***'
    redact_headers({"Authorization": "Bearer eyJ…", "Accept": "application/json"})
    # {'Authorization': '***', 'Accept': 'application/json'}
"""

import re
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

MASK = "***"

# Query, form and JSON keys whose value is a secret, compared in lower case with "-" read as "_".
SENSITIVE_NAMES = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "key",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "pwd",
        "signature",
        "sig",
        "code",
        "code_verifier",
        "auth",
        "authorization",
        "session",
        "sessionid",
        "private_key",
    }
)
# Name fragments that make any key secret (``x_auth_token``, ``webhook_secret``, ``db_password``).
# In JSON these usually name an error code or a session object, not a credential.
_JSON_EXEMPT = frozenset({"code", "session"})
SENSITIVE_FRAGMENTS = ("token", "secret", "password", "passwd", "apikey", "api_key", "signature")
# Header name fragments (``X-Api-Key``, ``X-Auth-Token``, ``X-Hub-Signature-256``).
SENSITIVE_HEADER_FRAGMENTS = ("token", "secret", "key", "signature", "auth", "password")
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

_NAME = r"[A-Za-z0-9_.-]+"
_JSON_PAIR = re.compile(rf'("({_NAME})"\s*:\s*)"((?:[^"\\]|\\.)*)"')
# The same inside a JSON string (a body echoed in an error answer): \"name\": \"value\".
_ESCAPED_JSON_PAIR = re.compile(rf'(\\"({_NAME})\\"\s*:\s*)\\"([^"\\]*)\\"')
_FORM_PAIR = re.compile(rf"(?<![A-Za-z0-9_.%-])({_NAME})=([^&\s\"'<>#;,]*)")
_AUTH_SCHEME = re.compile(r"\b(Bearer|Basic|Digest|Token)\s+[A-Za-z0-9._~+/=:-]{6,}", re.IGNORECASE)


def is_sensitive_name(name):
    """Tell whether a query, form or JSON key ``name`` holds a secret."""
    name = unquote_plus(name).strip().lower().replace("-", "_")
    return name in SENSITIVE_NAMES or any(f in name for f in SENSITIVE_FRAGMENTS)


def is_sensitive_header(name):
    """Tell whether the HTTP header ``name`` carries a credential."""
    name = name.strip().lower()
    return name in SENSITIVE_HEADERS or any(f in name for f in SENSITIVE_HEADER_FRAGMENTS)


def _secret_forms(secrets):
    """Each secret with its URL-encoded forms, longest first so that no part of one is left."""
    forms = set()
    for value in secrets or ():
        if not value:
            continue
        secret = str(value)
        forms.update({secret, quote(secret, safe=""), quote_plus(secret, safe="")})
    return sorted(forms, key=len, reverse=True)


def _mask_secrets(text, secrets):
    for form in _secret_forms(secrets):
        text = text.replace(form, MASK)
    return text


def _redact_query(query):
    """Mask the values of sensitive parameters in ``a=1&b=2``, keeping everything else as is."""
    if not query:
        return query
    pairs = []
    for pair in query.split("&"):
        name, sep, _value = pair.partition("=")
        pairs.append(f"{name}={MASK}" if sep and is_sensitive_name(name) else pair)
    return "&".join(pairs)


def redact_url(url, secrets=()):
    """Return ``url`` with its password, sensitive query values and ``secrets`` masked.

    The fragment is treated like the query (OAuth2's implicit grant returns
    ``#access_token=…``). A string that does not parse as a URL is redacted as text.
    """
    if url is None:
        return None
    url = str(url)
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _at, hostport = netloc.rpartition("@")
            user, colon, _password = userinfo.partition(":")
            netloc = f"{user}:{MASK}@{hostport}" if colon else netloc
        redacted = urlunsplit(
            (
                parts.scheme,
                netloc,
                parts.path,
                _redact_query(parts.query),
                _redact_query(parts.fragment),
            )
        )
    except ValueError:
        return redact_text(url, secrets)
    return _mask_secrets(redacted, secrets)


def redact_text(text, secrets=()):
    """Return ``text`` with ``secrets`` and secret-looking values masked.

    Masks ``name=value`` pairs (query strings, form bodies) and JSON ``"name": "value"`` pairs
    whose name is sensitive, credentials after ``Bearer``/``Basic``, URLs' passwords, and every
    occurrence of each secret in ``secrets`` (also URL-encoded). Every non-empty secret is masked,
    however short: a mangled message is better than a leaked secret.
    """
    if text is None:
        return None
    text = _mask_secrets(str(text), secrets)
    for pattern, quote_mark in ((_JSON_PAIR, '"'), (_ESCAPED_JSON_PAIR, '\\"')):
        text = pattern.sub(
            lambda m, q=quote_mark: (
                f"{m.group(1)}{q}{MASK}{q}"
                if is_sensitive_name(m.group(2)) and m.group(2).lower() not in _JSON_EXEMPT
                else m.group(0)
            ),
            text,
        )
    text = _FORM_PAIR.sub(
        lambda m: f"{m.group(1)}={MASK}" if is_sensitive_name(m.group(1)) else m.group(0), text
    )
    text = re.sub(r"(://[^/\s:@]+):[^/\s@]+@", rf"\1:{MASK}@", text)
    return _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {MASK}", text)


def redact_headers(headers, secrets=()):
    """Return a copy of ``headers`` (a mapping) with credential headers masked.

    Authorization, Proxy-Authorization, Cookie, Set-Cookie and any header whose name contains
    token, secret, key, signature, auth or password are masked whole; other values are redacted
    as text (``secrets`` included).
    """
    return {
        name: MASK if is_sensitive_header(name) else redact_text(value, secrets)
        for name, value in (headers or {}).items()
    }
