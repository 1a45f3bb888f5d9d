"""Pushes to a real Odoo server process: persist-before-ack at named kill points, and
concurrent duplicate deliveries."""

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


class TestWebhookServer(ServerCase):
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
            server = self.start_server(log)
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
        barrier = threading.Barrier(8)
        statuses = []

        def send():
            barrier.wait()
            statuses.append(self.post(url, "same-delivery").status_code)

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(statuses), [200] * 7 + [202], self.read_log(log)[-5000:])
        self.assertEqual(self.stored("same-delivery"), 1)

        def processed(env):
            sub = env["ihub.integration.test.webhook"].browse(self.sub_id)
            return "same-delivery" in (sub.hook_calls or "")

        self.wait_for(processed, [server], message="the webhook lane")
        with self.transaction() as env:
            sub = env["ihub.integration.test.webhook"].browse(self.sub_id)
            calls = [line for line in sub.hook_calls.splitlines() if "same-delivery" in line]
            self.assertEqual(len(calls), 1)
            event = env["ihub.webhook.event"].search(
                [
                    ("integration_id", "=", self.integration_id),
                    ("delivery_id", "=", "same-delivery"),
                ]
            )
            self.assertEqual(event.state, "done")
            self.assertEqual(event.job_id.lane, "webhook")
        self.assertFalse(self.ihub_errors(self.read_log(log)))
