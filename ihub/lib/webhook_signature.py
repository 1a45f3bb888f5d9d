"""Standard Webhooks signatures (https://www.standardwebhooks.com), signing and verifying.

A message is signed with HMAC-SHA256 over ``"<webhook-id>.<webhook-timestamp>.<raw body>"``;
the ``webhook-signature`` header holds one or more space-separated ``v1,<base64>`` signatures
(a sender signs with every secret it holds during a rotation). Secrets are ``whsec_<base64>``.

Verification never raises anything but ``SignatureError`` on bad input: header values come
from strangers, and a ``ValueError`` escaping from base64 or float parsing would become a 500.
"""

import base64
import binascii
import hashlib
import hmac
import math
import secrets
import time

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60
# A signature header longer than this is refused before any HMAC is computed.
MAX_SIGNATURE_HEADER = 4096
MAX_ID_LENGTH = 256
HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"


class SignatureError(Exception):
    """The request is not signed as it must be. ``code`` says why (for counters and logs)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def generate_secret(length=32):
    """A new signing secret, ``whsec_`` followed by ``length`` random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(length)).decode()


def secret_key(secret):
    """The key bytes of a ``whsec_…`` secret (the prefix is optional); ValueError if invalid."""
    text = secret.strip()
    if text.startswith(SECRET_PREFIX):
        text = text[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from error
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secret, msg_id, timestamp, body):
    """The ``v1,<base64>`` signature of ``body`` (bytes) for this id and timestamp (int)."""
    if isinstance(body, str):
        body = body.encode()
    payload = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_key(secret), payload, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_headers(secrets_, msg_id, body, timestamp=None):
    """The three Standard Webhooks headers for ``body``, signed with each of ``secrets_``."""
    if isinstance(secrets_, str):
        secrets_ = [secrets_]
    timestamp = math.floor(time.time()) if timestamp is None else int(timestamp)
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: " ".join(sign(s, msg_id, timestamp, body) for s in secrets_),
    }


def _header(headers, name):
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def parse_timestamp(value):
    """The integer seconds of a ``webhook-timestamp`` header; SignatureError if malformed."""
    text = (value or "").strip()
    if not text.isdigit() or len(text) > 12:
        raise SignatureError("bad_timestamp", "webhook-timestamp is not a Unix time in seconds")
    return int(text)


def parse_signatures(value):
    """The ``v1`` signatures (bytes) of a ``webhook-signature`` header.

    Other versions are skipped (a sender may add asymmetric ``v1a`` ones); a header with no
    valid ``v1`` entry is a SignatureError.
    """
    if not value or len(value) > MAX_SIGNATURE_HEADER:
        raise SignatureError("bad_signature", "webhook-signature is missing or too long")
    found = []
    for entry in value.split():
        version, sep, encoded = entry.partition(",")
        if not sep or version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not found:
        raise SignatureError("bad_signature", "webhook-signature holds no v1 signature")
    return found


def verify(secrets_, headers, body, *, now=None, tolerance=TOLERANCE_SECONDS):
    """Check a request signed per Standard Webhooks; return its ``webhook-id``.

    ``secrets_`` are the active ``whsec_`` secrets (any one may match: rotation), ``headers`` a
    mapping (any case), ``body`` the raw bytes, ``now`` the time to check the timestamp against
    (seconds; injectable for tests). Raises SignatureError, with ``code`` one of
    ``missing_headers``, ``bad_timestamp``, ``stale_timestamp``, ``future_timestamp``,
    ``bad_signature``, ``no_secret``.
    """
    if isinstance(secrets_, str):
        secrets_ = [secrets_]
    if isinstance(body, str):
        body = body.encode()
    msg_id = _header(headers, HEADER_ID)
    stamp = _header(headers, HEADER_TIMESTAMP)
    signature = _header(headers, HEADER_SIGNATURE)
    if not (msg_id and stamp and signature):
        raise SignatureError(
            "missing_headers", "webhook-id, webhook-timestamp and webhook-signature are required"
        )
    if len(msg_id) > MAX_ID_LENGTH or not msg_id.isprintable():
        raise SignatureError("missing_headers", "webhook-id is not a valid id")
    timestamp = parse_timestamp(stamp)
    now = time.time() if now is None else now
    if timestamp < now - tolerance:
        raise SignatureError("stale_timestamp", "webhook-timestamp is too old")
    if timestamp > now + tolerance:
        raise SignatureError("future_timestamp", "webhook-timestamp is in the future")
    given = parse_signatures(signature)
    keys = []
    for secret in secrets_ or ():
        try:
            keys.append(secret_key(secret))
        except ValueError:
            continue
    if not keys:
        raise SignatureError("no_secret", "no signing secret is configured")
    payload = f"{msg_id}.{timestamp}.".encode() + body
    for key in keys:
        expected = hmac.new(key, payload, hashlib.sha256).digest()
        # Every given signature is compared in constant time; one match is enough.
        if any(hmac.compare_digest(expected, candidate) for candidate in given):
            return msg_id
    raise SignatureError("bad_signature", "no signature matches")


def verify_hmac_header(secret, body, header_value, *, prefix="", encoding="hex"):
    """Check a single-signature scheme (GitHub ``X-Hub-Signature-256: sha256=<hex>``, Shopify
    ``X-Shopify-Hmac-Sha256: <base64>``): HMAC-SHA256 of the raw body with ``secret``.

    ``secret`` is text used as is (these senders do not use ``whsec_``). Raises SignatureError.
    """
    if not header_value or not secret:
        raise SignatureError("missing_headers", "the signature header is missing")
    if isinstance(body, str):
        body = body.encode()
    if prefix and not header_value.startswith(prefix):
        raise SignatureError("bad_signature", "the signature header is malformed")
    given = header_value[len(prefix) :].strip()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    expected = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError("bad_signature", "no signature matches")
    return True
