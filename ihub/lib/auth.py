"""``requests`` authentication objects for the credential kinds iHub knows.

Plain Python: the ORM side (reading secrets, storing refreshed tokens) is passed in as
callables, so that the request logic is testable without a database.
"""

import time

from requests.auth import AuthBase

# An access token is refreshed this many seconds before the provider says it expires: a token
# that expires while the request travels is as good as expired.
REFRESH_MARGIN = 60


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>``."""

    def __init__(self, token):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request

    def ihub_secrets(self):
        return [self.token]


class HeaderAuth(AuthBase):
    """A key sent in a header the integration type names (e.g. ``X-API-Key``)."""

    def __init__(self, header, value):
        self.header = header
        self.value = value

    def __call__(self, request):
        request.headers[self.header] = self.value
        return request

    def ihub_secrets(self):
        return [self.value]


class QueryParamAuth(AuthBase):
    """A key sent as a query parameter the integration type names (e.g. ``api_key``)."""

    def __init__(self, param, value):
        self.param = param
        self.value = value

    def __call__(self, request):
        request.prepare_url(request.url, {self.param: self.value})
        return request

    def ihub_secrets(self):
        return [self.value]


class OAuth2TokenAuth(AuthBase):
    """A bearer access token that is renewed before it expires and once on a 401 answer.

    ``renew()`` returns ``(access_token, expires_at)`` (``expires_at``: epoch seconds or None)
    and raises when the token cannot be renewed; ``clock`` returns epoch seconds.
    """

    def __init__(self, renew, access_token=None, expires_at=None, clock=time.time):
        self.renew = renew
        self.access_token = access_token
        self.expires_at = expires_at
        self.clock = clock
        self._seen = [access_token]  # every token sent, masked in records and errors

    def _expiring(self):
        return self.expires_at is not None and self.expires_at - REFRESH_MARGIN <= self.clock()

    def _renew(self):
        self.access_token, self.expires_at = self.renew()
        self._seen.append(self.access_token)

    def ihub_secrets(self):
        return [token for token in self._seen if token]

    def __call__(self, request):
        if not self.access_token or self._expiring():
            self._renew()
        request.headers["Authorization"] = f"Bearer {self.access_token}"
        request.register_hook("response", self._retry_on_401)
        return request

    def _retry_on_401(self, response, **kwargs):
        # The provider may revoke a token before its expiry: renew once and send the request
        # again; a second 401 is the answer (the retried request carries no second retry).
        if response.status_code != 401 or getattr(response.request, "_ihub_retried", False):
            return response
        self._renew()
        # Release the connection before reusing it for the retry.
        _ = response.content
        response.close()
        retry = response.request.copy()
        retry._ihub_retried = True
        retry.headers["Authorization"] = f"Bearer {self.access_token}"
        retry.hooks = {"response": []}
        answer = response.connection.send(retry, **kwargs)
        answer.history.append(response)
        answer.request = retry
        return answer
