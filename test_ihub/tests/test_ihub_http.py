"""integration.ihub_http() inside real runs, against a local server on 127.0.0.1."""

from contextlib import ExitStack

from odoo.exceptions import AccessError

from odoo.addons.ihub.tests.common import run_integration
from odoo.addons.ihub.tests.http_helpers import (
    SECRET,
    RequestsToIHubGuard,
    Tripwire,
    start_server,
)

from .common import IHubCase


class TestIHubHttp(RequestsToIHubGuard, IHubCase):
    """Every test runs with a socket tripwire: nothing can connect beyond loopback."""

    def setUp(self):
        super().setUp()
        self.server = start_server(self)
        stack = ExitStack()
        self.addCleanup(stack.close)
        self.tripwire = Tripwire().start(stack)
        self.sub = (
            self.env["ihub.integration.httptest"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Shop API",
                    "base_url": f"http://127.0.0.1:{self.server.server_address[1]}/",
                    "allow_private_network": True,
                }
            )
        )
        self.integration = self.sub.super_id
        credential = self.integration._ihub_credential("api_key").with_user(self.manager)
        credential.secret = SECRET

    def run_as_user(self):
        return run_integration(self.integration.with_user(self.ihub_user))

    def texts_a_user_could_see(self, job):
        messages = self.env["mail.message"].search(
            [("model", "=", "ihub.integration"), ("res_id", "=", self.integration.id)]
        )
        events = self.env["ihub.log"].search([("integration_id", "=", self.integration.id)])
        return [
            job.error_message or "",
            job.error_traceback or "",
            *events.mapped("summary"),
            *[details or "" for details in events.mapped("details")],
            *[body or "" for body in messages.mapped("body")],
            *job.http_exchange_ids.mapped("url"),
            *[error or "" for error in job.http_exchange_ids.mapped("error")],
            *[body or "" for body in job.http_exchange_ids.mapped("response_body")],
        ]

    def test_a_run_calls_below_the_base_url_with_its_key_and_records_the_request(self):
        self.sub.calls = 2
        job = self.run_as_user()
        self.assertEqual(job.state, "done", job.error_message)
        method, path, headers, _body = self.server.seen[0]
        self.assertEqual(method, "GET")
        self.assertTrue(path.startswith("/echo?api_key="), path)
        self.assertIn("iHub/", headers["User-Agent"])
        self.assertIn("Shop API", headers["User-Agent"])
        exchanges = job.http_exchange_ids
        self.assertEqual(len(exchanges), 2)
        self.assertEqual(set(exchanges.mapped("status")), {200})
        self.assertEqual(set(exchanges.mapped("method")), {"GET"})
        self.assertFalse(any(exchanges.mapped("response_body")), "bodies only when asked")
        for url in exchanges.mapped("url"):
            self.assertIn("/echo?api_key=", url)
            self.assertNotIn(SECRET, url)

    def test_bodies_are_kept_only_with_the_switch_and_without_secrets(self):
        self.integration.with_user(self.manager).http_debug = True
        job = self.run_as_user()
        self.assertEqual(job.state, "done", job.error_message)
        body = job.http_exchange_ids.response_body
        self.assertIn('"server": "A"', body)
        self.assertNotIn(SECRET, body)

    def test_a_refused_key_fails_the_run_for_good_and_leaks_the_secret_nowhere(self):
        self.sub.path = "/status/401"  # the server also echoes the secret in its answer
        job = self.run_as_user()
        self.assertEqual(job.state, "failed")
        self.assertIn("401", job.error_message)
        self.assertFalse(job.child_job_ids, "an authentication error is not retried")
        for text in self.texts_a_user_could_see(job):
            self.assertNotIn(SECRET, text)
        self.assertEqual(set(job.http_exchange_ids.mapped("status")), {401})

    def test_private_addresses_are_refused_without_the_switch(self):
        self.integration.with_user(self.manager).write(
            {"allow_private_network": False, "base_url": "http://10.1.2.3/"}
        )
        job = self.run_as_user()
        self.assertEqual(job.state, "failed")
        self.assertIn("10.1.2.3", job.error_message)
        self.assertIn("private", job.error_message)
        self.assertFalse(self.tripwire.connects, "a refused request connects nowhere")
        self.assertFalse(self.server.seen)
        self.integration.with_user(self.manager).base_url = self.sub.base_url.replace(
            "10.1.2.3", f"127.0.0.1:{self.server.server_address[1]}"
        )
        job = self.run_as_user()
        self.assertEqual(job.state, "failed", "loopback is refused too without the switch")
        self.assertIn("127.0.0.1", job.error_message)
        self.assertFalse(self.server.seen)

    def test_only_runs_and_managers_get_a_session(self):
        with self.assertRaisesRegex(AccessError, "Only the runs of 'Shop API'"):
            self.integration.with_user(self.ihub_user).ihub_http()
        with self.assertRaises(AccessError):
            self.sub.with_user(self.ihub_user).ihub_http()
        session = self.integration.with_user(self.manager).ihub_http()
        self.assertEqual(session.get_json("/echo")["server"], "A")

    def test_a_request_quota_paces_requests_through_the_database(self):
        self.integration.with_user(self.manager).write(
            {"rate_limit": 50, "rate_limit_period": "second"}
        )
        self.sub.calls = 3
        job = self.run_as_user()
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(len(self.server.seen), 3)
        self.env.cr.execute(
            "SELECT next_slot_at FROM ihub_throttle WHERE integration_id = %s",
            (self.integration.id,),
        )
        next_slot_at = self.env.cr.fetchone()[0]
        self.assertIsNotNone(next_slot_at, "each request reserved its slot")
        Throttle = self.env["ihub.throttle"]
        Throttle._ihub_reserve_slot(self.integration.id, 1, "minute")
        wait = Throttle._ihub_reserve_slot(self.integration.id, 1, "minute")
        self.assertGreater(wait, 50, "the next request waits for the slot reserved before it")
