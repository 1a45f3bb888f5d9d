"""OAuth2 against a local provider on 127.0.0.1 (oauthlib's server classes), through the real
``/ihub/oauth/callback`` route of the test server."""

import json
import os
from contextlib import ExitStack
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from odoo import SUPERUSER_ID, api
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.ihub.lib import journal
from odoo.addons.ihub.lib.exceptions import IHubPermanentError
from odoo.addons.ihub.lib.netguard import NetworkRefused
from odoo.addons.ihub.models.ihub_credential import INTERNAL_WRITE
from odoo.addons.ihub.tests.common import run_integration
from odoo.addons.ihub.tests.http_helpers import Tripwire

from .oauth_provider import CLIENT_ID, CLIENT_SECRET, Provider
from .servers import RealTransactions


@tagged("post_install", "-at_install")
class TestOAuth2(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(journal.forget, cls.cr)
        cls.manager = new_test_user(
            cls.env, login="oauth_manager", groups="ihub.group_ihub_manager"
        )
        cls.ihub_user = new_test_user(cls.env, login="oauth_user", groups="ihub.group_ihub_user")

    def setUp(self):
        super().setUp()
        self.addCleanup(journal.forget, self.env.cr)
        # oauthlib allows plain http (loopback here) only with this switch.
        environ = patch.dict(os.environ, {"OAUTHLIB_INSECURE_TRANSPORT": "1"})
        environ.start()
        self.addCleanup(environ.stop)
        self.provider = Provider()
        self.provider.__enter__()
        self.addCleanup(self.provider.__exit__)
        self.sub = (
            self.env["ihub.integration.test.oauth"]
            .with_user(self.manager)
            .create(
                {
                    "name": "OAuth",
                    "allow_private_network": True,  # the provider is on this machine
                    "user_id": self.manager.id,
                    "run_user_id": False,
                    "api_url": f"{self.provider.url}/api",
                }
            )
        )
        self.integration = self.sub.super_id
        self.credential = self.integration.credential_ids
        self.credential.with_user(self.manager).write(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "authorize_url": f"{self.provider.url}/authorize",
                "token_url": f"{self.provider.url}/token",
            }
        )

    # ---- Helpers

    def call_button(self, login, model, method, ids):
        self.authenticate(login, login)
        response = self.url_open(
            "/web/dataset/call_button",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {"model": model, "method": method, "args": [ids], "kwargs": {}},
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    def authorize(self):
        """Press Connect as the manager and let the provider approve: the callback URL."""
        answer = self.call_button(
            "oauth_manager", "ihub.credential", "action_oauth_connect", self.credential.ids
        )
        url = answer["result"]["url"]
        query = parse_qs(urlsplit(url).query)
        self.assertEqual(query["code_challenge_method"], ["S256"])
        self.assertTrue(query["code_challenge"][0])
        self.assertTrue(url.startswith(self.provider.url))
        approval = requests.get(url, allow_redirects=False, timeout=10)
        self.assertEqual(approval.status_code, 302, approval.text)
        return approval.headers["Location"]

    def callback(self, location):
        return self.url_open(location, allow_redirects=False)

    def tokens(self):
        self.credential.invalidate_recordset()
        credential = self.credential.sudo()
        return credential.access_token, credential.refresh_token

    def assertNothingStored(self):  # noqa: N802
        self.assertEqual(self.tokens(), (False, False))
        self.assertEqual(self.credential.status, "missing")

    def connect(self):
        response = self.callback(self.authorize())
        self.assertEqual(response.status_code, 303, response.text)
        return response

    # ---- Authorization code + PKCE

    def test_start_refuses_until_connected(self):
        with self.assertRaisesRegex(Exception, "OAuth2 .not set."):
            self.integration.with_user(self.manager).action_start()
        self.connect()
        self.integration.with_user(self.manager).action_start()
        self.assertEqual(self.integration.state, "active")

    def test_connect_stores_tokens_and_redirects_to_the_integration(self):
        self.connect()
        self.integration.with_user(self.manager).action_start()
        self.assertEqual(self.sub.hook_calls, "activate\n")
        response = self.connect()
        self.assertTrue(response.headers["Location"].endswith(f"/odoo/ihub/{self.integration.id}"))
        access, refresh = self.tokens()
        self.assertIn(access, self.provider.validator.access_tokens)
        self.assertIn(refresh, self.provider.validator.refresh_tokens)
        self.assertEqual(self.credential.status, "set")
        self.assertFalse(self.env["ihub.oauth.state"].sudo().search([]), "state used up")
        self.sub.invalidate_recordset()
        self.assertEqual(
            self.sub.hook_calls, "activate\nactivate\n", "activate() after Connect when active"
        )
        bodies = " ".join(self.integration.message_ids.mapped("body"))
        self.assertIn("connected", bodies)
        self.assertNotIn(access, bodies)

    def test_replayed_state_is_refused(self):
        location = self.authorize()
        self.assertEqual(self.callback(location).status_code, 303)
        before = self.tokens()
        replay = self.callback(location)
        self.assertEqual(replay.status_code, 400)
        self.assertIn("already used", replay.text)
        self.assertEqual(self.tokens(), before)

    def test_unknown_state_is_refused(self):
        location = self.authorize()
        query = parse_qs(urlsplit(location).query)
        forged = "/ihub/oauth/callback?" + urlencode({"state": "forged", "code": query["code"][0]})
        response = self.callback(forged)
        self.assertEqual(response.status_code, 400)
        self.assertIn("unknown", response.text)
        self.assertNotIn("Traceback", response.text)
        self.assertNothingStored()

    def test_state_of_another_session_is_refused(self):
        location = self.authorize()
        self.authenticate("oauth_manager", "oauth_manager")  # a new browser session
        response = self.callback(location)
        self.assertEqual(response.status_code, 400)
        self.assertIn("another session", response.text)
        self.assertNothingStored()

    def test_provider_error_is_shown_and_nothing_stored(self):
        location = self.authorize()
        state = parse_qs(urlsplit(location).query)["state"][0]
        response = self.callback(
            "/ihub/oauth/callback?"
            + urlencode(
                {"state": state, "error": "access_denied", "error_description": "User said no"}
            )
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("access_denied: User said no", response.text)
        self.assertNothingStored()

    def test_invalid_code_is_refused_and_nothing_stored(self):
        location = self.authorize()
        query = parse_qs(urlsplit(location).query)
        bad = "/ihub/oauth/callback?" + urlencode(
            {"state": query["state"][0], "code": "expired-or-invented"}
        )
        response = self.callback(bad)
        self.assertEqual(response.status_code, 400)
        self.assertIn("invalid_grant", response.text)
        self.assertNotIn(CLIENT_SECRET, response.text)
        self.assertNothingStored()

    def test_users_cannot_connect(self):
        with self.assertLogs("odoo.http", "WARNING"):
            answer = self.call_button(
                "oauth_user", "ihub.credential", "action_oauth_connect", self.credential.ids
            )
        self.assertIn("AccessError", answer["error"]["data"]["name"])

    # ---- Tokens in use

    def test_refresh_before_expiry(self):
        self.provider.server = type(self.provider.server)(
            self.provider.validator, token_expires_in=30
        )
        self.connect()
        first_access, _refresh = self.tokens()
        auth = self.credential.with_user(self.manager)._requests_auth()
        answer = requests.get(f"{self.provider.url}/api", auth=auth, timeout=10)
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(self.provider.validator.token_requests[-1], "refresh_token")
        new_access, _refresh = self.tokens()
        self.assertNotEqual(new_access, first_access)
        self.assertEqual(self.provider.api_calls, [new_access], "one request, fresh token")

    def test_refresh_once_on_401_inside_a_run(self):
        self.connect()
        first_access, _refresh = self.tokens()
        self.provider.validator.access_tokens.discard(first_access)  # revoked early
        self.integration.sudo().run_user_id = self.ihub_user
        job = run_integration(self.integration.with_user(self.ihub_user))
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(self.sub.answers, "200\n")
        new_access, _refresh = self.tokens()
        self.assertEqual(self.provider.api_calls, [first_access, new_access])

    def test_second_401_is_the_answer(self):
        self.connect()
        self.provider.validator.access_tokens.clear()
        self.provider.validator.save_bearer_token = lambda token, request, *a, **k: None
        self.provider.validator.refresh_tokens.add(self.tokens()[1])
        auth = self.credential.with_user(self.manager)._requests_auth()
        answer = requests.get(f"{self.provider.url}/api", auth=auth, timeout=10)
        self.assertEqual(answer.status_code, 401)
        self.assertEqual(len(self.provider.api_calls), 2, "retried once, not in a loop")

    def test_revoked_refresh_token_needs_reconnect(self):
        self.connect()
        self.provider.validator.revoke_all()
        auth = self.credential.with_user(self.manager)._requests_auth()
        with self.assertRaisesRegex(IHubPermanentError, "reconnect needed"):
            requests.get(f"{self.provider.url}/api", auth=auth, timeout=10)
        self.credential.invalidate_recordset()
        self.assertTrue(self.credential.needs_reconnect)
        self.assertEqual(self.credential.status, "reconnect")
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "ihub.integration"), ("res_id", "=", self.integration.id)]
        )
        self.assertEqual(activity.user_id, self.manager)
        self.assertIn("Reconnect", activity.summary)
        with self.assertRaisesRegex(Exception, "reconnect needed"):
            self.integration.with_user(self.manager).action_start()

    def test_run_user_cannot_use_the_credential_outside_a_run(self):
        self.connect()
        with self.assertRaises(Exception) as caught:
            self.credential.with_user(self.ihub_user)._requests_auth()
        self.assertEqual(type(caught.exception).__name__, "AccessError")

    def test_disconnect_deactivates_then_forgets_the_tokens(self):
        self.connect()
        answer = self.call_button(
            "oauth_manager", "ihub.credential", "action_oauth_disconnect", self.credential.ids
        )
        self.assertNotIn("error", answer)
        self.sub.invalidate_recordset()
        self.assertEqual(self.sub.hook_calls, "deactivate\n")
        self.assertNothingStored()

    # ---- Client credentials

    def test_client_credentials_grant(self):
        self.credential.with_user(self.manager).grant_type = "client_credentials"
        self.env.flush_all()  # the token is stored through a cursor of its own
        self.assertEqual(self.credential.status, "set", "client id and secret are enough")
        auth = self.credential.with_user(self.manager)._requests_auth()
        answer = requests.get(f"{self.provider.url}/api", auth=auth, timeout=10)
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(self.provider.validator.token_requests, ["client_credentials"])
        access, _refresh = self.tokens()
        self.assertIn(access, self.provider.validator.access_tokens)
        action = self.credential.with_user(self.manager).action_oauth_get_token()
        self.assertEqual(action["params"]["type"], "success")

    def test_a_token_url_on_a_private_network_is_refused_without_the_switch(self):
        self.integration.with_user(self.manager).allow_private_network = False
        self.credential.with_user(self.manager).write(
            {"grant_type": "client_credentials", "token_url": "http://10.9.8.7/token"}
        )
        self.env.flush_all()  # the token is fetched through a cursor of its own
        with ExitStack() as stack:
            tripwire = Tripwire().start(stack)
            with self.assertRaisesRegex(NetworkRefused, r"10\.9\.8\.7.*private"):
                self.credential.with_user(self.manager).action_oauth_get_token()
        self.assertFalse(tripwire.connects, "the refused token URL was never connected to")
        self.assertEqual(self.provider.validator.token_requests, [])


@tagged("post_install", "-at_install")
class TestTokensOutliveTheRun(RealTransactions):
    """A run that refreshed the access token and then failed keeps the new tokens.

    Providers rotate refresh tokens: the one a run spent is dead. Were the new tokens rolled
    back with the failed run, the integration could never authenticate again. Here every
    transaction is real (committed), as in production; the test cursor would hide the bug.
    """

    def setUp(self):
        super().setUp()
        environ = patch.dict(os.environ, {"OAUTHLIB_INSECURE_TRANSPORT": "1"})
        environ.start()
        self.addCleanup(environ.stop)
        self.provider = Provider()
        self.provider.__enter__()
        self.addCleanup(self.provider.__exit__)
        validator = self.provider.validator
        validator.access_tokens.add("access-0")
        validator.refresh_tokens.add("refresh-0")
        with self.transaction() as env:
            sub = env["ihub.integration.test.oauth"].create(
                {
                    "name": "OAuth committed",
                    "allow_private_network": True,  # the provider is on this machine
                    "run_user_id": env.ref("base.user_admin").id,
                    "api_url": f"{self.provider.url}/missing",  # the run fails after refreshing
                }
            )
            self.integration_id = sub.super_id.id
            sub.credential_ids.write(
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "authorize_url": f"{self.provider.url}/authorize",
                    "token_url": f"{self.provider.url}/token",
                }
            )
            sub.credential_ids.with_context(**{INTERNAL_WRITE: True}).write(
                {
                    "access_token": "access-0",
                    "refresh_token": "refresh-0",
                    "token_expires_at": env.cr.now() - timedelta(minutes=1),
                }
            )
        self.addCleanup(self.delete_committed, [self.integration_id])

    def run_once(self):
        """Queue a manual run and run it as a runner does, each step committed; return it."""
        with self.transaction() as env:
            integration = env["ihub.integration"].browse(self.integration_id)
            job_id = integration._run_manually(None, env.cr.now()).id
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            job = env["ihub.job"]._claim_next(env["ihub.integration"].browse(self.integration_id))
            self.assertEqual(job.id, job_id)
            env["ihub.job"]._commit()
            job._run()
        with self.transaction() as env:
            job = env["ihub.job"].browse(job_id)
            return job.state, job.error_message

    def stored_tokens(self):
        with self.transaction() as env:
            credential = env["ihub.integration"].browse(self.integration_id).credential_ids
            return credential._secret_value("access_token"), credential._secret_value(
                "refresh_token"
            )

    def test_tokens_refreshed_by_a_failed_run_are_kept_and_used_next_time(self):
        state, error = self.run_once()
        self.assertEqual(state, "failed")
        self.assertIn("404", error)
        validator = self.provider.validator
        self.assertEqual(validator.token_requests, ["refresh_token"])
        access, refresh = self.stored_tokens()
        self.assertNotIn(access, (False, "access-0"))
        self.assertIn(access, validator.access_tokens, "the token the provider issued")
        self.assertNotIn(refresh, (False, "refresh-0"))
        self.assertIn(refresh, validator.refresh_tokens)

        # The provider rotated: the spent refresh token no longer works. The next run needs
        # nothing but what the failed run stored.
        validator.refresh_tokens.discard("refresh-0")
        validator.access_tokens.discard("access-0")
        with self.transaction() as env:
            env["ihub.integration.test.oauth"].search(
                [("super_id", "=", self.integration_id)]
            ).api_url = f"{self.provider.url}/api"
        state, error = self.run_once()
        self.assertEqual(state, "done", error)
        self.assertEqual(validator.token_requests, ["refresh_token"], "no second refresh")
        self.assertEqual(self.provider.api_calls[-1], access)
