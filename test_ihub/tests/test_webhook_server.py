"""Pushes to a real Odoo server process: persist-before-ack at named kill points, and
concurrent duplicate deliveries — in a threaded server (a kill point kills the whole server)
and in a prefork one (HTTP workers in processes of their own, as in production: a kill point
kills the worker serving the push, and the server replaces it)."""

import json
import os
import tempfile
import threading
from datetime import datetime, timezone

import requests
from standardwebhooks import Webhook

from odoo.addons.ihub.lib import webhooks

from .servers import ServerCase

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class WebhookServerCase(ServerCase):
    workers = 0  # HTTP worker processes of the servers started (0: a threaded server)

    def setUp(self):
        super().setUp()
        with self.transaction() as env:
            sub = env["ihub.integration.test.webhook"].create(
                {"name": "Pushed", "user_id": env.ref("base.user_admin").id}
            )
            integration = sub.super_id
            env["ihub.credential"].create(
                {"integration_id": integration.id, "kind": "hmac", "name": "s", "secret": SECRET}
            )
            integration.action_start()
            self.integration_id, self.sub_id = integration.id, sub.id
            self.token = integration.webhook_token
        self.addCleanup(self.delete_committed, [self.integration_id])

    def start(self, kill_at=None):
        log = tempfile.TemporaryFile(mode="w+")
        self.addCleanup(log.close)
        if kill_at:
            os.environ[webhooks.KILL_ENV] = kill_at
        try:
            server = self.start_server(log, workers=self.workers)
        finally:
            os.environ.pop(webhooks.KILL_ENV, None)
        port = self.server_port(server)
        return server, f"http://127.0.0.1:{port}/ihub/hook/{self.token}", log

    def server_port(self, server):
        return int(server.args[server.args.index("--http-port") + 1])

    def post(self, url, msg_id, payload=None):
        body = json.dumps(payload or {"type": "order.paid"})
        now = datetime.now(tz=timezone.utc)
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(SECRET).sign(msg_id, now, body),
            "Content-Type": "application/json",
        }
        return requests.post(url, data=body, headers=headers, timeout=60)

    def stored(self, msg_id):
        with self.transaction() as env:
            return env["ihub.webhook.event"].search_count(
                [("integration_id", "=", self.integration_id), ("delivery_id", "=", msg_id)]
            )

    def send_together(self, url, msg_id, count):
        """Post the same signed delivery from ``count`` threads at once; their statuses
        (None: the connection was cut without an answer)."""
        barrier = threading.Barrier(count)
        statuses = []

        def send():
            barrier.wait()
            try:
                statuses.append(self.post(url, msg_id).status_code)
            except requests.ConnectionError:
                statuses.append(None)

        threads = [threading.Thread(target=send) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return statuses

    def hook_calls(self, msg_id):
        with self.transaction() as env:
            calls = env["ihub.integration.test.webhook"].browse(self.sub_id).hook_calls or ""
            return [line for line in calls.splitlines() if line.startswith(f"{msg_id}|")]

    def assert_handled_once(self, msg_id, server, log):
        """``msg_id`` is stored once, and handled once by the webhook lane, without errors."""
        self.assertEqual(self.stored(msg_id), 1)
        self.wait_for(lambda _env: self.hook_calls(msg_id), [server], message="the webhook lane")
        self.assertEqual(len(self.hook_calls(msg_id)), 1)
        self.assertFalse(self.ihub_errors(self.read_log(log)))


class TestWebhookServer(WebhookServerCase):
    def test_killed_after_commit_loses_nothing(self):
        server, url, _log = self.start(kill_at="after_commit")
        with self.assertRaises(requests.ConnectionError):
            self.post(url, "kept")
        server.wait(timeout=30)
        self.assertEqual(server.returncode, -9, "the server was killed at the kill point")
        self.assertEqual(self.stored("kept"), 1, "committed before the answer")

    def test_killed_before_commit_never_answered(self):
        server, url, _log = self.start(kill_at="before_commit")
        with self.assertRaises(requests.ConnectionError):
            self.post(url, "lost")
        server.wait(timeout=30)
        self.assertEqual(server.returncode, -9)
        self.assertEqual(self.stored("lost"), 0, "no 2xx was sent for it, the sender retries")
        # The sender's retry to a healthy server is stored and processed once.
        server, url, log = self.start()
        self.assertEqual(self.post(url, "lost").status_code, 202)
        self.assertEqual(self.stored("lost"), 1)

    def test_concurrent_duplicates_make_one_event_and_one_hook_call(self):
        server, url, log = self.start()
        # One push first: the server's first requests load what every later one shares.
        self.assertEqual(self.post(url, "warm-up").status_code, 202)
        statuses = self.send_together(url, "same-delivery", 8)
        self.assertEqual(sorted(statuses), [200] * 7 + [202], self.read_log(log)[-5000:])
        self.assert_handled_once("same-delivery", server, log)
        with self.transaction() as env:
            event = env["ihub.webhook.event"].search(
                [
                    ("integration_id", "=", self.integration_id),
                    ("delivery_id", "=", "same-delivery"),
                ]
            )
            self.assertEqual(event.state, "done")
            self.assertEqual(event.job_id.lane, "webhook")


class TestWebhookLaneWait(WebhookServerCase):
    """A lane run that handled a push waits ``ihub.webhook_lane_linger_seconds`` for the next
    one before it ends, so that a stream of pushes is one run, not one run per push."""

    def lane_runs(self, *msg_ids):
        with self.transaction() as env:
            events = env["ihub.webhook.event"].search(
                [("integration_id", "=", self.integration_id), ("delivery_id", "in", msg_ids)]
            )
            return [(job.id, job.state, job.processed_count) for job in events.job_id]

    def test_a_run_that_handled_a_push_handles_the_next_one_too(self):
        self.set_param("ihub.webhook_lane_linger_seconds", "5")
        server, url, log = self.start()
        self.assertEqual(self.post(url, "first").status_code, 202)
        self.wait_for(lambda _env: self.hook_calls("first"), [server], message="the first push")
        self.assertEqual(self.post(url, "second").status_code, 202)
        self.assert_handled_once("second", server, log)
        runs = self.lane_runs("first", "second")
        self.assertEqual(len(runs), 1, "one run handled both pushes")
        # Once no push came for the wait, the run ends with both counted.
        self.wait_for(
            lambda _env: self.lane_runs("first")[0][1] == "done", [server], message="its end"
        )
        self.assertEqual(self.lane_runs("first")[0][1:], ("done", 2))


class TestWebhookPrefork(WebhookServerCase):
    """Pushes racing in two worker processes. Duplicates: the unique index decides, not a lock
    in memory. Kill points: they kill the worker serving the push, and the server replaces it."""

    workers = 2

    def race(self, msg_id, count, kill_at=None):
        """Start a server, push ``msg_id`` from ``count`` threads at once: the server, its URL
        and log, and the statuses (None: no answer)."""
        server, url, log = self.start(kill_at=kill_at)
        statuses = self.send_together(url, msg_id, count)
        self.assertIsNone(server.poll(), "the server replaced the killed workers")
        return server, url, log, statuses

    def test_concurrent_duplicates_make_one_event_and_one_hook_call(self):
        server, _url, log, statuses = self.race("same-delivery", 8)
        self.assertEqual(sorted(statuses), [200] * 7 + [202], self.read_log(log)[-5000:])
        self.assert_handled_once("same-delivery", server, log)

    def test_killed_after_commit_the_sender_got_nothing_or_2xx_and_the_event_is_kept(self):
        # Every worker dies right after committing a new event, before answering.
        server, url, log, statuses = self.race("kept", 4, kill_at="after_commit")
        # The one push that stored the event got no answer; the others waited for its commit
        # (the unique index) and were told it is a duplicate.
        self.assertEqual((statuses.count(None), statuses.count(200)), (1, 3), statuses)
        self.assertEqual(self.stored("kept"), 1, "committed before the answer")
        # The sender retries; a new worker answers 200 at once, without storing it again.
        self.assertEqual(self.post(url, "kept").status_code, 200)
        self.assert_handled_once("kept", server, log)

    def test_killed_before_commit_no_2xx_and_nothing_stored(self):
        _server, _url, _log, statuses = self.race("lost", 4, kill_at="before_commit")
        self.assertEqual(statuses, [None] * 4, "no answer at all: the sender will retry")
        self.assertEqual(self.stored("lost"), 0)
        with self.transaction() as env:
            jobs = env["ihub.job"].search_count([("integration_id", "=", self.integration_id)])
        self.assertEqual(jobs, 0, "the lane job queued with it was rolled back too")
