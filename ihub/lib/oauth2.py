"""The OAuth2 client side, on top of oauthlib / requests-oauthlib (no hand-written protocol).

Authorization code with PKCE (S256), client credentials, and refresh. Every function returns
plain values or raises ``OAuth2Failure`` (a message fit for a user, never a secret) or
``ReconnectNeeded`` (the provider refused the refresh token: a person must connect again).

oauthlib refuses plain http (except when ``OAUTHLIB_INSECURE_TRANSPORT`` is set, as tests on
loopback do): tokens only travel over https.
"""

import time
from datetime import datetime, timezone

import requests
from oauthlib.oauth2 import (
    BackendApplicationClient,
    InvalidGrantError,
    OAuth2Error,
    WebApplicationClient,
)
from requests_oauthlib import OAuth2Session

from .netguard import check_url

# RFC 7636 allows 43 to 128 characters.
CODE_VERIFIER_LENGTH = 64


class OAuth2Failure(Exception):
    """The provider or the network refused an OAuth2 step; the message says why."""


class ReconnectNeeded(OAuth2Failure):
    """The refresh token is revoked, expired or invalid (``invalid_grant``)."""


def _scopes(scope):
    return scope.split() if scope else None


def authorization_request(client_id, authorize_url, redirect_uri, scope, state):
    """The URL to send the user to, and the PKCE code verifier to keep for the callback."""
    client = WebApplicationClient(client_id)
    verifier = client.create_code_verifier(CODE_VERIFIER_LENGTH)
    try:
        url = client.prepare_request_uri(
            authorize_url,
            redirect_uri=redirect_uri,
            scope=_scopes(scope),
            state=state,
            code_challenge=client.create_code_challenge(verifier, "S256"),
            code_challenge_method="S256",
        )
    except OAuth2Error as error:
        raise OAuth2Failure(_describe(error)) from error
    return url, verifier


def exchange_code(
    token_url, client_id, client_secret, code, redirect_uri, verifier, timeout, allow_private=False
):
    """The token dict for an authorization code (``code_verifier`` proves the PKCE challenge)."""
    check_url(token_url, allow_private=allow_private)
    session = OAuth2Session(client_id, redirect_uri=redirect_uri)
    return _call(
        session.fetch_token,
        token_url,
        code=code,
        client_secret=client_secret or None,
        code_verifier=verifier,
        include_client_id=True,
        timeout=timeout,
    )


def refresh(token_url, client_id, client_secret, refresh_token, timeout, allow_private=False):
    """The new token dict for ``refresh_token``; ``ReconnectNeeded`` on ``invalid_grant``."""
    check_url(token_url, allow_private=allow_private)
    session = OAuth2Session(client_id)
    extra = {"client_id": client_id}
    if client_secret:
        extra["client_secret"] = client_secret
    token = _call(
        session.refresh_token, token_url, refresh_token=refresh_token, timeout=timeout, **extra
    )
    # Some providers do not send the refresh token again when it does not rotate.
    token.setdefault("refresh_token", refresh_token)
    return token


def client_credentials(token_url, client_id, client_secret, scope, timeout, allow_private=False):
    """A token dict from the client credentials grant."""
    check_url(token_url, allow_private=allow_private)
    session = OAuth2Session(client=BackendApplicationClient(client_id), scope=_scopes(scope))
    return _call(
        session.fetch_token,
        token_url,
        client_id=client_id,
        client_secret=client_secret,
        include_client_id=True,
        timeout=timeout,
    )


def token_values(token):
    """The fields to store from a token dict: tokens, and expiries as naive UTC datetimes."""
    values = {
        "access_token": token.get("access_token") or False,
        "token_expires_at": _utc(token.get("expires_at")),
    }
    if token.get("refresh_token"):
        values["refresh_token"] = token["refresh_token"]
    refresh_expires_in = token.get("refresh_token_expires_in")
    if refresh_expires_in:
        values["refresh_token_expires_at"] = _utc(time.time() + float(refresh_expires_in))
    return values


def _utc(epoch):
    if not epoch:
        return False
    return datetime.fromtimestamp(float(epoch), tz=timezone.utc).replace(tzinfo=None)


def _call(method, *args, **kwargs):
    try:
        return dict(method(*args, **kwargs))
    except InvalidGrantError as error:
        raise ReconnectNeeded(_describe(error)) from error
    except OAuth2Error as error:
        raise OAuth2Failure(_describe(error)) from error
    except requests.RequestException as error:
        raise OAuth2Failure(
            f"the token URL could not be reached ({type(error).__name__})"
        ) from error
    except ValueError as error:
        # requests-oauthlib raises it for an answer that is no token (HTML, no access_token).
        raise OAuth2Failure(f"the provider's answer is not a token ({error})") from error


def _describe(error):
    description = getattr(error, "description", None)
    return f"{error.error}: {description}" if description else str(error.error)
