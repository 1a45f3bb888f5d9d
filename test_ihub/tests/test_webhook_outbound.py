"""Outgoing webhooks: capture of record changes, signed deliveries to a local receiver on
127.0.0.1 (checked with the reference ``standardwebhooks`` library), retries, 410 and 429."""

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

from odoo.exceptions import AccessError, ValidationError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user

from odoo.addons.ihub.tests.common import run_due_jobs

from .common import IHubCase

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Receiver(ThreadingHTTPServer):
    """Records what it receives; answers with the statuses queued in ``script`` (then 200)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.received = []
        self.script = []
        self.lock = threading.Lock()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.received.append((dict(self.headers), body))
            status, headers = self.server.script.pop(0) if self.server.script else (200, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class TestWebhookOutbound(IHubCase):
    def setUp(self):
        super().setUp()
        self.receiver = Receiver()
        thread = threading.Thread(target=self.receiver.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(self.receiver.server_close)
        self.addCleanup(self.receiver.shutdown)
        self.integration = self.create_test_integration(allow_private_network=True).super_id
        manager_env = self.env(user=self.manager)
        self.credential = manager_env["ihub.credential"].create(
            {
                "integration_id": self.integration.id,
                "kind": "hmac",
                "name": "Outbound",
                "secret": SECRET,
            }
        )
        self.subscription = manager_env["ihub.webhook.subscription"].create(
            {
                "name": "Partners to CRM",
                "integration_id": self.integration.id,
                "model_id": self.env.ref("base.model_res_partner").id,
                "on_create": True,
                "on_write": True,
                "on_unlink": True,
                "trigger_field_ids": [(6, 0, [self.env.ref("base.field_res_partner__email").id])],
                "payload_field_ids": [(6, 0, [self.env.ref("base.field_res_partner__email").id])],
                "filter_domain": "[('is_company', '=', False)]",
                "target_url": self.receiver.url,
                "credential_id": self.credential.id,
            }
        )
        # Changes are made by someone who knows nothing of iHub: capture works for everyone.
        editor = new_test_user(
            self.env, login="wh_editor", groups="base.group_user,base.group_partner_manager"
        )
        self.Partner = self.env["res.partner"].with_user(editor)

    def deliveries(self):
        return self.env["ihub.webhook.delivery"].search(
            [("subscription_id", "=", self.subscription.id)], order="id"
        )

    def verified(self):
        """The received payloads, each checked by the reference library."""
        return [Webhook(SECRET).verify(body, headers) for headers, body in self.receiver.received]

    def test_change_is_delivered_signed_after_commit(self):
        partner = self.Partner.create({"name": "Ada", "email": "ada@example.com"})
        delivery = self.deliveries()
        self.assertEqual(
            (delivery.event, delivery.state, delivery.res_id), ("create", "pending", partner.id)
        )
        self.assertFalse(self.receiver.received, "nothing is sent before the commit")
        run_due_jobs(self.env)
        payloads = self.verified()
        self.assertEqual(len(payloads), 1)
        self.assertEqual(payloads[0]["type"], "res.partner.create")
        self.assertEqual(payloads[0]["data"]["email"], "ada@example.com")
        self.assertEqual(delivery.state, "done")
        self.assertEqual((delivery.response_status, delivery.attempt), (200, 1))
        headers = json.loads(delivery.request_headers)
        self.assertEqual(headers["webhook-signature"], "***")
        self.assertEqual(headers["webhook-id"], delivery.webhook_id)
        self.assertEqual(delivery.job_id.lane, "delivery")

    def test_rolled_back_change_sends_nothing(self):
        try:
            with self.env.cr.savepoint():
                self.Partner.create({"name": "Ghost", "email": "ghost@example.com"})
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
        self.assertFalse(self.deliveries())
        run_due_jobs(self.env)
        self.assertFalse(self.receiver.received)

    def test_filters_trigger_fields_and_events(self):
        partner = self.Partner.create({"name": "Bob"})
        self.Partner.create({"name": "ACME", "is_company": True})  # filtered out
        partner.write({"phone": "123"})  # not a trigger field
        partner.write({"email": "bob@example.com"})
        partner.unlink()
        self.assertEqual(self.deliveries().mapped("event"), ["create", "write", "unlink"])

    def test_order_per_record_and_retry(self):
        # Two attempts over 72 hours: the retry is not due during this test by itself.
        self.env["ir.config_parameter"].sudo().set_param("ihub.webhook_delivery_attempts", "2")
        first = self.Partner.create({"name": "First", "email": "a@example.com"})
        first.email = "b@example.com"
        other = self.Partner.create({"name": "Other"})
        self.receiver.script = [(500, {})]
        run_due_jobs(self.env)
        create_first, write_first, create_other = self.deliveries()
        self.assertEqual((create_first.state, create_first.response_status), ("failed", 500))
        self.assertEqual(write_first.state, "pending", "waits for the record's earlier delivery")
        self.assertEqual((create_other.state, create_other.res_id), ("done", other.id))
        self.assertGreater(create_first.next_attempt_at, datetime.now())
        # The lane waits for the retry: the record's later delivery does not make it due now.
        lane = self.env["ihub.job"].sudo().search([("state", "=", "pending")])
        self.assertEqual(lane.eta, create_first.next_attempt_at)
        webhook_id = create_first.webhook_id
        # The retry is due: both go, in order, with the same webhook id as before.
        create_first.sudo().next_attempt_at = datetime.now() - timedelta(seconds=1)
        self.env["ihub.job"].sudo().search([("state", "=", "pending")]).eta = False
        run_due_jobs(self.env)
        self.assertEqual(self.deliveries().mapped("state"), ["done"] * 3)
        ids = [headers["webhook-id"] for headers, _body in self.receiver.received]
        self.assertEqual(
            ids, [webhook_id, create_other.webhook_id, webhook_id, write_first.webhook_id]
        )
        self.assertEqual(create_first.attempt, 2)

    def test_gone_disables_and_tells_the_responsible(self):
        self.receiver.script = [(410, {})]
        self.Partner.create({"name": "Gone"})
        run_due_jobs(self.env)
        delivery = self.deliveries()
        self.assertEqual(delivery.state, "dead")
        self.assertFalse(self.subscription.active)
        self.assertIn("410", self.subscription.disabled_reason)
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "ihub.integration"), ("res_id", "=", self.integration.id)]
        )
        self.assertEqual(activity.user_id, self.integration.user_id)
        self.Partner.create({"name": "After"})
        self.assertEqual(len(self.deliveries()), 1, "a disabled subscription captures nothing")

    def test_too_many_requests_honours_retry_after(self):
        self.receiver.script = [(429, {"Retry-After": "7200"})]
        self.Partner.create({"name": "Busy"})
        run_due_jobs(self.env)
        delivery = self.deliveries()
        self.assertEqual(delivery.state, "failed")
        self.assertGreaterEqual(delivery.next_attempt_at, datetime.now() + timedelta(seconds=7100))

    def test_last_attempt_gives_up(self):
        self.env["ir.config_parameter"].sudo().set_param("ihub.webhook_delivery_attempts", "2")
        self.receiver.script = [(500, {}), (503, {})]
        self.Partner.create({"name": "Down"})
        run_due_jobs(self.env)
        delivery = self.deliveries()
        delivery.sudo().next_attempt_at = datetime.now() - timedelta(seconds=1)
        self.env["ihub.job"].sudo().search([("state", "=", "pending")]).eta = False
        run_due_jobs(self.env)
        self.assertEqual((delivery.state, delivery.attempt), ("dead", 2))

    def test_redeliver_and_test_event(self):
        self.Partner.create({"name": "Again"})
        run_due_jobs(self.env)
        delivery = self.deliveries()
        with self.assertRaises(AccessError):
            delivery.with_user(self.internal_user).action_redeliver()
        delivery.with_user(self.ihub_user).action_redeliver()
        run_due_jobs(self.env)
        first, second = self.receiver.received
        self.assertEqual(first[0]["webhook-id"], second[0]["webhook-id"])
        self.subscription.with_user(self.manager).action_send_test_event()
        run_due_jobs(self.env)
        self.assertEqual(self.verified()[-1]["type"], "ihub.test")

    def test_target_url_guarded_at_save_and_at_delivery(self):
        with self.assertRaisesRegex(ValidationError, "target URL"):
            self.subscription.with_user(self.manager).target_url = "http://169.254.169.254/x"
        self.Partner.create({"name": "Private"})
        self.integration.with_user(self.manager).allow_private_network = False
        run_due_jobs(self.env)
        delivery = self.deliveries()
        self.assertEqual(delivery.state, "failed")
        self.assertIn("127.0.0.1", delivery.error)
        self.assertFalse(self.receiver.received)

    def test_generated_secret_signs(self):
        action = self.subscription.with_user(self.manager).action_generate_secret()
        secret = self.subscription.with_context(**action["context"]).secret_shown
        self.assertTrue(secret.startswith("whsec_"))
        self.Partner.create({"name": "New secret"})
        run_due_jobs(self.env)
        headers, body = self.receiver.received[0]
        self.assertEqual(
            Webhook(secret).verify(body, headers)["data"]["display_name"], "New secret"
        )

    def test_neutralized_copy_sends_and_accepts_nothing(self):
        pushed = self.env["ihub.integration.test.webhook"].create({"name": "Pushed"}).super_id
        self.assertTrue(pushed.sudo().webhook_token)
        self.Partner.create({"name": "Queued"})
        self.env.flush_all()
        for query in get_neutralization_queries(["ihub"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(pushed.sudo().webhook_token)
        self.assertFalse(self.subscription.active)
        self.assertEqual(self.deliveries().state, "dead")
        run_due_jobs(self.env)
        self.assertFalse(self.receiver.received)
