"""Secrets at rest: Fernet encryption with key rotation, and redaction of secrets in text.

The server configuration names the keys (``ihub_encryption_key``, comma separated). The first
key encrypts; every key decrypts, so a new key is put first and the old ones stay until the
re-encrypt command (``odoo-bin ihub_reencrypt``) has rewritten every secret with the new one.

A stored value is either ciphertext, recognised by ``PREFIX``, or clear text written before a
key was set: both read back, so setting a key never makes existing secrets unreadable.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# Marks ciphertext; Fernet tokens themselves are url-safe base64 and never contain a colon.
PREFIX = "ihub-fernet:"
REDACTED = "***"
# Shorter values are not redacted from text: replacing every "a" or "12" would garble messages
# and reveal more about the secret than it hides.
MIN_REDACT_LENGTH = 4


class SecretKeyError(ValueError):
    """The configured key is malformed, or a secret cannot be decrypted with the keys given."""


def generate_key():
    """A new random key, as a string to put in the server configuration."""
    return Fernet.generate_key().decode()


def parse_keys(value):
    """The ``MultiFernet`` for the comma-separated keys in ``value``, or None when it is empty.

    Raises ``SecretKeyError`` naming the position of a malformed key (never the key itself).
    """
    if not value:
        return None
    parts = [part.strip() for part in str(value).split(",")]
    if not any(parts):
        return None
    fernets = []
    for position, part in enumerate(parts, start=1):
        if not part:
            raise SecretKeyError(
                f"ihub_encryption_key: key {position} of {len(parts)} is empty (check for a "
                "stray comma)."
            )
        try:
            fernets.append(Fernet(part.encode()))
        except (ValueError, TypeError) as error:
            raise SecretKeyError(
                f"ihub_encryption_key: key {position} of {len(parts)} is not a valid Fernet key "
                '(32 url-safe base64-encoded bytes). Generate one with: python3 -c "from '
                'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            ) from error
    return MultiFernet(fernets)


def is_encrypted(value):
    """Whether a stored value is ciphertext made by ``encrypt``."""
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(value, keys):
    """``value`` as it is stored: ciphertext with ``keys`` (a ``MultiFernet``), else as is.

    Empty values stay empty, so that "not set" is visible without a key.
    """
    if not value or keys is None:
        return value
    if is_encrypted(value):
        return value
    return PREFIX + keys.encrypt(value.encode()).decode()


def decrypt(value, keys):
    """The clear text of a stored value (ciphertext or clear text stored before a key was set)."""
    if not is_encrypted(value):
        return value
    if keys is None:
        raise SecretKeyError(
            "A secret is stored encrypted but the server has no ihub_encryption_key: set the "
            "key it was encrypted with."
        )
    try:
        return keys.decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise SecretKeyError(
            "A secret cannot be decrypted with the configured ihub_encryption_key: keep the "
            "previous key in the list (after the new one) until the secrets are re-encrypted."
        ) from error


def reencrypt(value, keys):
    """A stored value rewritten with the first key (clear text is encrypted); None if unchanged.

    Without keys, ciphertext cannot be rewritten: that raises ``SecretKeyError``.
    """
    if not value:
        return None
    if keys is None:
        if is_encrypted(value):
            decrypt(value, keys)  # raises the explanation
        return None
    if not is_encrypted(value):
        return encrypt(value, keys)
    rotated = PREFIX + keys.rotate(value[len(PREFIX) :].encode()).decode()
    return rotated if rotated != value else None


def redact(text, secrets):
    """``text`` with every occurrence of each secret in ``secrets`` replaced by ``***``."""
    if not text:
        return text
    text = str(text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= MIN_REDACT_LENGTH:
            text = text.replace(secret, REDACTED)
    return text
