"""The requests authentication objects of ihub/lib/auth.py, without a database or network."""

import requests

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.auth import (
    REFRESH_MARGIN,
    BearerAuth,
    HeaderAuth,
    OAuth2TokenAuth,
    QueryParamAuth,
)


def prepare(auth, url="http://127.0.0.1:9/items?page=2"):
    return requests.Request("GET", url, auth=auth).prepare()


class TestStaticAuth(BaseCase):
    def test_bearer_header_and_query_parameter(self):
        self.assertEqual(prepare(BearerAuth("tok")).headers["Authorization"], "Bearer tok")
        self.assertEqual(prepare(HeaderAuth("X-Key", "k1")).headers["X-Key"], "k1")
        self.assertEqual(
            prepare(QueryParamAuth("api_key", "k 2")).url,
            "http://127.0.0.1:9/items?page=2&api_key=k+2",
        )


class TestOAuth2TokenAuth(BaseCase):
    def setUp(self):
        super().setUp()
        self.now = 1_000_000.0
        self.renewals = 0

    def renew(self):
        self.renewals += 1
        return f"new{self.renewals}", self.now + 3600

    def auth(self, token, expires_at):
        return OAuth2TokenAuth(self.renew, token, expires_at, clock=lambda: self.now)

    def test_valid_token_is_used_as_is(self):
        request = prepare(self.auth("old", self.now + REFRESH_MARGIN + 1))
        self.assertEqual(request.headers["Authorization"], "Bearer old")
        self.assertEqual(self.renewals, 0)

    def test_token_close_to_expiry_or_missing_is_renewed_first(self):
        request = prepare(self.auth("old", self.now + REFRESH_MARGIN - 1))
        self.assertEqual(request.headers["Authorization"], "Bearer new1")
        request = prepare(self.auth(None, None))
        self.assertEqual(request.headers["Authorization"], "Bearer new2")

    def test_token_without_expiry_is_kept(self):
        self.assertEqual(prepare(self.auth("old", None)).headers["Authorization"], "Bearer old")
