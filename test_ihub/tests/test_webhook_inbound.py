"""Pushes to /ihub/hook/<token> over real HTTP (Odoo's test server on loopback), signed by the
reference ``standardwebhooks`` library; processing through the runs engine."""

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from standardwebhooks import Webhook

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.ihub.controllers import webhook as webhook_controller
from odoo.addons.ihub.lib import journal
from odoo.addons.ihub.tests.common import run_due_jobs

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_b2xkIHNlY3JldCBvZiB0aGlydHktdHdvIGJ5dGVzIQ=="


def signed(body, msg_id, secret=SECRET, at=None):
    at = at or datetime.now(tz=timezone.utc)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
        "Content-Type": "application/json",
    }


@tagged("post_install", "-at_install")
class WebhookCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(journal.forget, cls.cr)
        company = cls.env.company
        cls.other_company = cls.env["res.company"].create({"name": "Webhook Other Co"})
        cls.ihub_user = new_test_user(
            cls.env, login="wh_user", groups="ihub.group_ihub_user", company_id=company.id
        )
        cls.manager = new_test_user(
            cls.env,
            login="wh_manager",
            groups="ihub.group_ihub_manager",
            company_id=company.id,
            company_ids=[Command.set([company.id, cls.other_company.id])],
        )
        cls.sub = (
            cls.env["ihub.integration.test.webhook"]
            .with_user(cls.manager)
            .create({"name": "Shop pushes", "user_id": cls.ihub_user.id})
        )
        cls.integration = cls.sub.super_id
        cls.env["ihub.credential"].with_user(cls.manager).create(
            {
                "integration_id": cls.integration.id,
                "kind": "hmac",
                "name": "Signing",
                "secret": SECRET,
            }
        )
        cls.integration.with_user(cls.manager).action_start()
        cls.path = cls.integration.sudo().webhook_url.split("/ihub/hook/")[1]

    def setUp(self):
        super().setUp()
        self.addCleanup(journal.forget, self.env.cr)

    def push(
        self, payload=None, msg_id="msg_1", headers=None, body=None, method="POST", token=None
    ):
        body = body if body is not None else json.dumps(payload or {"type": "order.created"})
        headers = signed(body, msg_id) if headers is None else headers
        return self.opener.request(
            method,
            self.base_url() + "/ihub/hook/" + (token or self.path),
            data=body.encode() if isinstance(body, str) else body,
            headers=headers,
            timeout=30,
        )

    def push_chunked(self, body, headers):
        """``body`` in two chunks, without a Content-Length (Transfer-Encoding: chunked)."""
        chunks = iter([body[:50].encode(), body[50:].encode()])
        return self.opener.post(
            f"{self.base_url()}/ihub/hook/{self.path}", data=chunks, headers=headers, timeout=30
        )

    def events(self):
        return self.env["ihub.webhook.event"].search(
            [("integration_id", "=", self.integration.id)], order="id"
        )

    def counter(self, code, integration=None):
        integration = self.integration if integration is None else integration
        row = self.env["ihub.webhook.counter"].search(
            [("integration_id", "=", integration.id or False), ("code", "=", code)]
        )
        return row.count

    def assertError(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        error = response.json()["error"]
        self.assertEqual(error["code"], code)
        self.assertTrue(error["message"])


class TestWebhookInbound(WebhookCase):
    def test_push_is_stored_then_processed_by_hook_as_run_user(self):
        responses = [self.push({"type": "order.created", "n": i}, f"msg_{i}") for i in range(3)]
        self.assertEqual([r.status_code for r in responses], [202, 202, 202])
        events = self.events()
        self.assertEqual(events.mapped("state"), ["received"] * 3)
        self.assertEqual(events.mapped("delivery_id"), ["msg_0", "msg_1", "msg_2"])
        self.assertEqual(events[0].payload, {"type": "order.created", "n": 0})
        self.assertEqual(events[0].event_type, "order.created")
        stored_headers = json.loads(events[0].headers)
        self.assertEqual(stored_headers["Webhook-Signature"], "***")
        # One job for the batch, in its own lane, not a run of the schedule.
        jobs = self.env["ihub.job"].search([("integration_id", "=", self.integration.id)])
        self.assertEqual(len(jobs), 1)
        self.assertEqual((jobs.lane, jobs.trigger, jobs.state), ("webhook", "webhook", "pending"))
        run_due_jobs(self.env)
        self.assertEqual(jobs.state, "done")
        self.assertEqual(jobs.processed_count, 3)
        self.assertEqual(events.mapped("state"), ["done"] * 3)
        self.assertEqual(events.job_id, jobs)
        calls = self.sub.hook_calls.splitlines()
        run_user = self.integration.sudo()._effective_run_user()
        self.assertEqual(calls, [f"msg_{i}|order.created|{run_user.id}" for i in range(3)])

    def test_a_batch_that_finds_nothing_leaves_no_run(self):
        # A push racing with a running batch queues one more to be sure; it may find nothing.
        self.assertEqual(self.push(msg_id="first").status_code, 202)
        run_due_jobs(self.env)
        spare = self.env["ihub.job"]._ihub_ensure_lane_job(self.integration.id, "webhook")
        self.assertEqual(spare.state, "pending")
        run_due_jobs(self.env)
        self.assertFalse(spare.exists())
        jobs = self.env["ihub.job"].search([("integration_id", "=", self.integration.id)])
        self.assertEqual(jobs.mapped("processed_count"), [1], "only the batch that worked")

    def test_a_claim_takes_in_the_spare_jobs_of_racing_pushes(self):
        # Pushes in the moment after a claim may each queue a job (no lock to wait for): the
        # next claim handles their events and deletes the spare jobs; a retry due later and
        # a paused run stay.
        self.assertEqual(self.push(msg_id="first").status_code, 202)
        Job = self.env["ihub.job"].sudo()
        queued = Job.search([("integration_id", "=", self.integration.id)])
        integration = self.integration.sudo()
        spare = Job._enqueue(integration, "webhook", lane="webhook", max_attempts=1)
        self.assertEqual(self.push(msg_id="second").status_code, 202)
        hour = self.env.cr.now() + timedelta(hours=1)
        later = Job._enqueue(integration, "webhook", lane="webhook", max_attempts=1, eta=hour)
        paused = Job._enqueue(integration, "webhook", lane="webhook", max_attempts=1)
        paused.write({"checkpoint": "7", "started_at": self.env.cr.now(), "priority": 99})
        claimed = Job._claim_next(self.integration)
        self.assertEqual(claimed, queued)
        self.assertFalse(spare.exists())
        self.assertTrue(later.exists() and paused.exists())
        claimed._run()
        self.assertEqual((claimed.state, claimed.processed_count), ("done", 2))
        self.assertEqual(self.events().mapped("state"), ["done", "done"])

    def test_duplicate_delivery_is_answered_and_not_stored(self):
        self.assertEqual(self.push(msg_id="dup").status_code, 202)
        again = self.push({"type": "other"}, msg_id="dup")
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json(), {"status": "duplicate"})
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(self.counter("duplicate"), 1)
        run_due_jobs(self.env)
        self.assertEqual(len(self.sub.hook_calls.splitlines()), 1)

    def test_signature_refusals_store_nothing(self):
        body = json.dumps({"type": "x"})
        good = signed(body, "msg_sig")
        cases = [
            ({k: v for k, v in good.items() if k != "webhook-signature"}, "invalid_signature"),
            ({**good, "webhook-signature": "v1,AAAA"}, "invalid_signature"),
            ({**good, "webhook-signature": "garbage,%%%"}, "invalid_signature"),
            (signed(body, "msg_sig", secret=OLD_SECRET), "invalid_signature"),
            (
                signed(body, "msg_sig", at=datetime.now(tz=timezone.utc) - timedelta(minutes=6)),
                "invalid_timestamp",
            ),
            (
                signed(body, "msg_sig", at=datetime.now(tz=timezone.utc) + timedelta(minutes=6)),
                "invalid_timestamp",
            ),
            ({**good, "webhook-timestamp": "soon"}, "invalid_timestamp"),
        ]
        for headers, code in cases:
            self.assertError(self.push(body=body, headers=headers), 401, code)
        # A tampered body with the right headers.
        self.assertError(self.push(body=body + " ", headers=good), 401, "invalid_signature")
        self.assertFalse(self.events())
        self.assertEqual(self.counter("unauthorized"), 5)
        self.assertEqual(self.counter("stale_timestamp"), 3)

    def test_secret_rotation(self):
        old = (
            self.env["ihub.credential"]
            .with_user(self.manager)
            .create(
                {
                    "integration_id": self.integration.id,
                    "kind": "hmac",
                    "name": "Old signing",
                    "secret": OLD_SECRET,
                }
            )
        )
        body = json.dumps({"type": "x"})
        self.assertEqual(
            self.push(body=body, headers=signed(body, "a", OLD_SECRET)).status_code, 202
        )
        self.assertEqual(self.push(body=body, headers=signed(body, "b")).status_code, 202)
        old.active = False
        self.assertError(
            self.push(body=body, headers=signed(body, "c", OLD_SECRET)), 401, "invalid_signature"
        )

    def test_type_specific_signature_override(self):
        self.sub.sudo().github_style = True
        body = json.dumps({"type": "push"})
        digest = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
        headers = {
            "X-Hub-Signature-256": "sha256=" + digest,
            "X-GitHub-Delivery": "gh-1",
            "Content-Type": "application/json",
        }
        self.assertEqual(self.push(body=body, headers=headers).status_code, 202)
        self.assertEqual(self.events().delivery_id, "gh-1")
        # Standard Webhooks headers no longer pass, a wrong digest neither.
        self.assertError(self.push(body=body, headers=signed(body, "sw")), 401, "invalid_signature")
        headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
        self.assertError(self.push(body=body, headers=headers), 401, "invalid_signature")

    def test_malformed_json_after_verification(self):
        self.assertError(self.push(body="{not json"), 400, "malformed_json")
        self.assertFalse(self.events())
        self.assertEqual(self.counter("bad_request"), 1)

    def test_a_token_of_an_integration_that_takes_no_pushes_is_unknown(self):
        # The type decides (its model's accepts_webhooks); a token left on an integration of
        # another type, or on an archived one, opens nothing.
        other = self.env["ihub.integration.test"].create({"name": "No pushes"}).super_id
        other.sudo().webhook_token = "token-of-a-type-without-hook"
        self.assertError(self.push(token="token-of-a-type-without-hook"), 404, "not_found")
        self.integration.sudo().active = False
        self.assertError(self.push(), 404, "not_found")
        self.assertFalse(self.events())

    def test_unknown_and_rotated_token(self):
        self.assertError(self.push(token="nope"), 404, "not_found")
        self.assertEqual(self.counter("not_found", self.env["ihub.integration"]), 1)
        old_path = self.path
        self.integration.with_user(self.manager).action_rotate_webhook_token()
        self.assertError(self.push(token=old_path), 404, "not_found")
        self.assertEqual(self.counter("not_found"), 1)
        new_path = self.integration.sudo().webhook_token
        self.assertNotEqual(new_path, old_path)
        self.assertEqual(self.push(token=new_path).status_code, 202)

    def test_wrong_method_and_handshake(self):
        response = self.push(method="PUT")
        self.assertError(response, 405, "method_not_allowed")
        self.assertEqual(response.headers["Allow"], "POST")
        self.assertError(self.push(method="GET", body=""), 405, "method_not_allowed")
        # The type's synchronous handshake answers a URL check, apart from hook.
        response = self.opener.get(
            f"{self.base_url()}/ihub/hook/{self.path}?challenge=c-42", timeout=30
        )
        self.assertEqual((response.status_code, response.text), (200, "c-42"))
        self.assertFalse(self.events())

    def test_body_over_the_limit(self):
        self.env["ir.config_parameter"].sudo().set_param("ihub.webhook_max_body_bytes", "100")
        big = json.dumps({"type": "x", "pad": "y" * 200})
        self.assertError(self.push(body=big), 413, "payload_too_large")
        # Without a Content-Length (chunked), it is cut after the limit.
        response = self.push_chunked(big, signed(big, "chunked"))
        self.assertError(response, 413, "payload_too_large")
        self.assertFalse(self.events())
        self.assertEqual(self.counter("payload_too_large"), 2)
        # A chunked body of exactly the limit passes.
        exact = json.dumps({"type": "x", "pad": ""})
        exact = json.dumps({"type": "x", "pad": "y" * (100 - len(exact))})
        self.assertEqual(len(exact), 100)
        response = self.push_chunked(exact, signed(exact, "exact"))
        self.assertEqual(response.status_code, 202, response.text)

    def test_form_bodies_are_not_parsed_before_the_checks(self):
        # Odoo parses form and multipart bodies into request parameters before a route runs,
        # reading them whatever their size and consuming the bytes the signature covers.
        self.env["ir.config_parameter"].sudo().set_param("ihub.webhook_max_body_bytes", "100")
        form = "application/x-www-form-urlencoded"
        multipart = "multipart/form-data; boundary=b0undary"
        bodies = {
            form: "type=order.created&pad=" + "y" * 200,
            multipart: (
                '--b0undary\r\nContent-Disposition: form-data; name="pad"\r\n\r\n'
                + "y" * 200
                + "\r\n--b0undary--\r\n"
            ),
        }
        for content_type, big in bodies.items():
            with self.subTest(content_type=content_type):
                headers = {**signed(big, "form"), "Content-Type": content_type}
                self.assertError(self.push(body=big, headers=headers), 413, "payload_too_large")
                # Chunked, without a Content-Length: cut at the limit, not parsed whole first.
                self.assertError(self.push_chunked(big, headers), 413, "payload_too_large")
        self.assertFalse(self.events())
        self.assertEqual(self.counter("payload_too_large"), 4)
        # Under the limit, a signed form is verified over its raw bytes, then is not JSON.
        small_bodies = {
            form: "type=order.created",
            multipart: '--b0undary\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n'
            "--b0undary--\r\n",
        }
        for content_type, small in small_bodies.items():
            with self.subTest(content_type=content_type):
                headers = {**signed(small, "small-form"), "Content-Type": content_type}
                self.assertError(self.push(body=small, headers=headers), 400, "malformed_json")
        self.assertFalse(self.events())
        self.assertEqual(self.counter("bad_request"), 2)
        self.assertEqual(self.counter("unauthorized"), 0)

    def test_stopped_integration_answers_503(self):
        self.integration.with_user(self.ihub_user).action_stop()
        response = self.push()
        self.assertError(response, 503, "unavailable")
        self.assertTrue(int(response.headers["Retry-After"]) > 0)
        self.assertFalse(self.events())
        self.integration.with_user(self.ihub_user).action_start()
        self.assertEqual(self.push().status_code, 202)

    def test_rate_limit_per_token(self):
        self.env["ir.config_parameter"].sudo().set_param("ihub.webhook_rate_limit_per_minute", "2")
        self.assertEqual(self.push(msg_id="r1").status_code, 202)
        self.assertEqual(self.push(msg_id="r2").status_code, 202)
        response = self.push(msg_id="r3")
        self.assertError(response, 429, "rate_limited")
        self.assertTrue(int(response.headers["Retry-After"]) >= 1)
        self.assertEqual(len(self.events()), 2)

    def test_intake_on_a_cursor_of_its_own_when_odoo_used_the_requests(self):
        # Another module's _pre_dispatch may query on the request's cursor: its transaction
        # cannot be made READ COMMITTED then, and the intake takes a cursor of its own.
        with patch.object(webhook_controller, "_unused", return_value=False) as unused:
            self.assertEqual(self.push(msg_id="own-1").status_code, 202)
            self.assertEqual(self.push(msg_id="own-1").status_code, 200)
            self.assertError(self.push(token="nope"), 404, "not_found")
        self.assertEqual(unused.call_count, 3)
        self.assertEqual(self.events().mapped("delivery_id"), ["own-1"])
        self.assertEqual(self.counter("duplicate"), 1)

    def test_failures_retry_then_dead_letter_then_replay(self):
        self.env["ir.config_parameter"].sudo().set_param("ihub.webhook_event_attempts", "2")
        self.sub.sudo().fail_hook = True
        self.push(msg_id="fragile")
        run_due_jobs(self.env)
        event = self.events()
        self.assertEqual((event.state, event.attempts), ("failed", 1))
        self.assertIn("refused fragile", event.error)
        self.assertGreater(event.next_attempt_at, datetime.now() + timedelta(seconds=30))
        # The next attempt is queued for then.
        waiting = self.env["ihub.job"].search(
            [("integration_id", "=", self.integration.id), ("state", "=", "pending")]
        )
        self.assertEqual(waiting.eta, event.next_attempt_at)
        event.sudo().next_attempt_at = datetime.now() - timedelta(seconds=1)
        waiting.sudo().eta = False
        run_due_jobs(self.env)
        self.assertEqual((event.state, event.attempts), ("dead", 2))
        self.assertEqual(self.integration.webhook_dead_count, 1)
        logged = self.env["ihub.log"].search([("integration_id", "=", self.integration.id)])
        self.assertTrue(any("dead letter" in s for s in logged.mapped("summary")))
        # The cause is fixed; an iHub user replays it from the Dead Letters list.
        self.sub.sudo().fail_hook = False
        dead = (
            self.env["ihub.webhook.event"]
            .with_user(self.ihub_user)
            .search([("state", "=", "dead")])
        )
        self.assertEqual(dead, event)
        dead.action_replay()
        run_due_jobs(self.env)
        self.assertEqual((event.state, event.attempts), ("done", 1))
        self.assertEqual(
            self.sub.hook_calls.splitlines(),
            [f"fragile|order.created|{self.integration.sudo()._effective_run_user().id}"],
        )

    def test_bulk_replay_and_access(self):
        for i in range(3):
            self.push(msg_id=f"b{i}")
        run_due_jobs(self.env)
        events = self.events()
        self.assertEqual(events.mapped("state"), ["done"] * 3)
        outsider = new_test_user(self.env, login="wh_outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            events.with_user(outsider).action_replay()
        events.with_user(self.ihub_user).action_replay()
        self.assertEqual(events.mapped("state"), ["received"] * 3)
        run_due_jobs(self.env)
        self.assertEqual(len(self.sub.hook_calls.splitlines()), 6)

    def test_hook_is_not_callable_from_outside(self):
        self.push(msg_id="guarded")
        event = self.events()
        with self.assertRaises(AccessError):
            self.sub.with_user(self.manager).hook(event)
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": "ihub.integration.test.webhook",
                        "method": "hook",
                        "args": [[self.sub.id], event.id],
                        "kwargs": {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("error", response.json())
        self.assertFalse(self.sub.hook_calls)

    def test_webhook_lane_does_not_wait_for_a_running_run(self):
        Job = self.env["ihub.job"].sudo()
        long_run = Job._enqueue(self.integration, "manual")
        claimed = Job._claim_next(self.integration)
        self.addCleanup(Job._release_unstarted, claimed)
        self.assertEqual((claimed, claimed.state), (long_run, "running"))
        self.push(msg_id="beside")
        run_due_jobs(self.env)
        self.assertEqual(self.events().state, "done")
        self.assertEqual(long_run.state, "running")

    def test_purge_keeps_tombstones_of_delivery_ids(self):
        self.push(msg_id="old")
        run_due_jobs(self.env)
        event = self.events()
        self.env.cr.execute(
            "UPDATE ihub_webhook_event SET received_at = %s WHERE id = %s",
            [datetime.now() - timedelta(days=31), event.id],
        )
        self.env.invalidate_all()
        self.env["ihub.webhook.event"]._cron_purge()
        self.assertTrue(event.exists())
        self.assertTrue(event.purged)
        self.assertFalse(event.payload_raw)
        # A late redelivery is still recognised.
        self.assertEqual(self.push(msg_id="old").status_code, 200)
        self.env.cr.execute(
            "UPDATE ihub_webhook_event SET write_date = %s WHERE id = %s",
            [datetime.now() - timedelta(days=6), event.id],
        )
        self.env["ihub.webhook.event"]._cron_purge()
        self.assertTrue(event.exists(), "tombstones stay at least 7 days")
        self.env.cr.execute(
            "UPDATE ihub_webhook_event SET write_date = %s WHERE id = %s",
            [datetime.now() - timedelta(days=8), event.id],
        )
        self.env["ihub.webhook.event"]._cron_purge()
        self.assertFalse(event.exists())

    def test_company_visibility_follows_the_integration(self):
        self.push(msg_id="co")
        other_user = new_test_user(
            self.env,
            login="wh_other_co",
            groups="ihub.group_ihub_user",
            company_id=self.other_company.id,
            company_ids=[Command.set([self.other_company.id])],
        )
        Event = self.env["ihub.webhook.event"]
        self.assertEqual(
            len(Event.with_user(self.ihub_user).search([("delivery_id", "=", "co")])), 1
        )
        self.assertFalse(Event.with_user(other_user).search([("delivery_id", "=", "co")]))

    def test_url_and_secret_generation(self):
        integration = self.integration.with_user(self.manager)
        self.assertTrue(integration.webhook_url.endswith("/ihub/hook/" + self.path))
        self.assertGreaterEqual(len(self.path), 40)
        action = integration.action_generate_webhook_secret()
        shown = integration.with_context(**action["context"]).webhook_secret_shown
        self.assertTrue(shown.startswith("whsec_"))
        self.assertFalse(integration.webhook_secret_shown, "shown once only")
        body = json.dumps({"type": "x"})
        self.assertEqual(self.push(body=body, headers=signed(body, "new", shown)).status_code, 202)
        with self.assertRaises(AccessError):
            self.integration.with_user(self.ihub_user).action_rotate_webhook_token()
