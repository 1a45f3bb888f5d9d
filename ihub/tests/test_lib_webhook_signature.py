"""Standard Webhooks signatures against the reference ``standardwebhooks`` library (no database)."""

import base64
import hashlib
import hmac
import json
import random
from datetime import datetime, timezone

from standardwebhooks import Webhook, WebhookVerificationError

from odoo.tests import BaseCase

from odoo.addons.ihub.lib import webhook_signature as ws
from odoo.addons.ihub.lib import webhooks

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER = "whsec_" + base64.b64encode(b"another secret of 32 bytes long!").decode()
NOW = 1_700_000_000
BODY = b'{"type":"order.created","data":{"id":42,"name":"S\xc3\xb8ren"}}'


def reference_headers(secret, msg_id="msg_2Kp", timestamp=NOW, body=BODY):
    """Headers as the reference library signs them."""
    signature = Webhook(secret).sign(
        msg_id, datetime.fromtimestamp(timestamp, tz=timezone.utc), body.decode()
    )
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


class TestWebhookSignature(BaseCase):
    def assertRefused(self, code, headers, body=BODY, secrets=(SECRET,), now=NOW):
        with self.assertRaises(ws.SignatureError) as caught:
            ws.verify(list(secrets), headers, body, now=now)
        self.assertEqual(caught.exception.code, code)

    def test_reference_signature_verifies(self):
        self.assertEqual(ws.verify([SECRET], reference_headers(SECRET), BODY, now=NOW), "msg_2Kp")
        # Header names are case-insensitive (WSGI gives them capitalised).
        headers = {k.title(): v for k, v in reference_headers(SECRET).items()}
        self.assertEqual(ws.verify(SECRET, headers, BODY, now=NOW), "msg_2Kp")

    def test_our_signature_verifies_with_reference(self):
        headers = ws.sign_headers(SECRET, "msg_ours", BODY)
        self.assertEqual(
            Webhook(SECRET).verify(BODY, headers),
            {"type": "order.created", "data": {"id": 42, "name": "Søren"}},
        )
        self.assertEqual(
            ws.sign(SECRET, "msg_2Kp", NOW, BODY),
            reference_headers(SECRET)["webhook-signature"],
        )

    def test_tampered_body_and_wrong_secret(self):
        headers = reference_headers(SECRET)
        self.assertRefused("bad_signature", headers, body=BODY.replace(b"42", b"43"))
        self.assertRefused("bad_signature", headers, secrets=[OTHER])
        # The id and the timestamp are signed too.
        self.assertRefused("bad_signature", {**headers, "webhook-id": "msg_other"})
        self.assertRefused("bad_signature", {**headers, "webhook-timestamp": str(NOW + 1)})

    def test_rotation(self):
        # The receiver holds the old and the new secret: either signature is accepted.
        self.assertTrue(ws.verify([OTHER, SECRET], reference_headers(SECRET), BODY, now=NOW))
        self.assertTrue(ws.verify([OTHER, SECRET], reference_headers(OTHER), BODY, now=NOW))
        # The sender signs with both: the receiver holding only one accepts it.
        both = ws.sign_headers([SECRET, OTHER], "msg_rot", BODY, timestamp=NOW)
        self.assertEqual(len(both["webhook-signature"].split()), 2)
        self.assertEqual(ws.verify([OTHER], both, BODY, now=NOW), "msg_rot")
        Webhook(OTHER).verify(BODY, ws.sign_headers([SECRET, OTHER], "msg_rot", BODY))
        # Unknown versions are skipped, not fatal.
        mixed = {**both, "webhook-signature": "v1a,AAAA " + both["webhook-signature"]}
        self.assertEqual(ws.verify([SECRET], mixed, BODY, now=NOW), "msg_rot")

    def test_timestamp_tolerance(self):
        headers = reference_headers(SECRET)
        self.assertTrue(ws.verify([SECRET], headers, BODY, now=NOW + 299))
        self.assertTrue(ws.verify([SECRET], headers, BODY, now=NOW - 299))
        self.assertRefused("stale_timestamp", headers, now=NOW + 301)
        self.assertRefused("future_timestamp", headers, now=NOW - 301)
        # The reference library refuses the same stale message.
        with self.assertRaises(WebhookVerificationError):
            Webhook(SECRET).verify(BODY, headers)

    def test_missing_and_malformed_headers(self):
        headers = reference_headers(SECRET)
        for name in headers:
            self.assertRefused("missing_headers", {k: v for k, v in headers.items() if k != name})
            self.assertRefused("missing_headers", {**headers, name: ""})
        for stamp in ("abc", "1.5e9", "-1", "99999999999999999999", " ", "1700000000.5"):
            self.assertRefused("bad_timestamp", {**headers, "webhook-timestamp": stamp})
        for signature in ("v1", "v1,", "v1,%%%", "garbage", "v2,abc", ",,,", "v1," + "A" * 5000):
            self.assertRefused("bad_signature", {**headers, "webhook-signature": signature})
        self.assertRefused("missing_headers", {**headers, "webhook-id": "x" * 300})
        self.assertRefused("missing_headers", {**headers, "webhook-id": "a\nb"})
        # A malformed secret is skipped; none left is its own error.
        self.assertRefused("no_secret", headers, secrets=["whsec_%%%"])
        self.assertRefused("no_secret", headers, secrets=[])

    def test_generated_secret(self):
        secret = ws.generate_secret()
        self.assertTrue(secret.startswith("whsec_"))
        self.assertEqual(len(ws.secret_key(secret)), 32)
        self.assertNotEqual(secret, ws.generate_secret())
        # The reference library accepts our secrets.
        Webhook(secret).verify(BODY, ws.sign_headers(secret, "msg_gen", BODY))
        with self.assertRaises(ValueError):
            ws.secret_key("whsec_")

    def test_single_hmac_header_schemes(self):
        digest = hmac.new(b"gh-secret", BODY, hashlib.sha256)
        self.assertTrue(
            ws.verify_hmac_header(
                "gh-secret", BODY, "sha256=" + digest.hexdigest(), prefix="sha256="
            )
        )
        shopify = base64.b64encode(digest.digest()).decode()
        self.assertTrue(ws.verify_hmac_header("gh-secret", BODY, shopify, encoding="base64"))
        for value in ("sha256=00", digest.hexdigest(), "", None):
            with self.assertRaises(ws.SignatureError):
                ws.verify_hmac_header("gh-secret", BODY, value, prefix="sha256=")


class TestWebhookSchedules(BaseCase):
    def test_delivery_schedule_reaches_72_hours_in_12_attempts(self):
        offsets = webhooks.delivery_schedule()
        self.assertEqual(len(offsets), 11)  # retries after the first attempt
        self.assertAlmostEqual(offsets[-1], 72 * 3600, delta=1)
        self.assertEqual(offsets, sorted(offsets))
        self.assertLess(offsets[0], 60)
        gaps = [b - a for a, b in zip([0.0, *offsets], offsets, strict=False)]
        self.assertEqual(gaps, sorted(gaps))
        # Jitter stays within ±10 % of the gap; the last attempt has no successor.
        rng = random.Random(4)
        for attempt in range(1, 12):
            delay = webhooks.delivery_retry_delay(attempt, rng=rng)
            self.assertAlmostEqual(delay, gaps[attempt - 1], delta=gaps[attempt - 1] * 0.1 + 1)
        self.assertIsNone(webhooks.delivery_retry_delay(12))
        self.assertEqual(len(webhooks.delivery_schedule(20, 96)), 19)

    def test_retry_after(self):
        self.assertEqual(webhooks.retry_after_seconds("120"), 120.0)
        self.assertEqual(
            webhooks.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60),
            60.0,
        )
        self.assertIsNone(webhooks.retry_after_seconds("soon"))

    def test_kill_point_only_when_named(self):
        # Not switched on: returns (switched on, it would SIGKILL this process).
        webhooks.kill_point("after_commit", environ={webhooks.KILL_ENV: "before_commit"})
        webhooks.kill_point("after_commit", environ={})
        body = json.loads(webhooks.error_body("not_found", "Unknown"))
        self.assertEqual(body, {"error": {"code": "not_found", "message": "Unknown"}})


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self, wall=1000.0):
        self.now, self.wall_offset, self.sleeps = 0.0, wall, []

    def clock(self):
        return self.now

    def wall(self):
        return self.now + self.wall_offset

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class TestLaneWait(BaseCase):
    def test_the_wait_from_its_system_parameter(self):
        self.assertEqual(webhooks.lane_linger(False), webhooks.DEFAULT_LANE_LINGER)
        self.assertEqual(webhooks.lane_linger(""), webhooks.DEFAULT_LANE_LINGER)
        self.assertEqual(webhooks.lane_linger("2.5"), 2.5)
        self.assertEqual(webhooks.lane_linger("0"), 0.0)
        self.assertEqual(webhooks.lane_linger("-3"), 0.0)
        for bad in ("soon", "nan", "inf", "1s"):
            self.assertIsNone(webhooks.lane_linger(bad), bad)

    def wait(self, answers, linger, deadline=None):
        fake, looks = FakeTime(), []

        def has_more():
            looks.append(fake.now)
            return answers(len(looks))

        found = webhooks.wait_for_more(
            has_more,
            linger,
            deadline,
            poll=0.02,
            clock=fake.clock,
            wall=fake.wall,
            sleep=fake.sleep,
        )
        return found, looks, fake

    def test_returns_as_soon_as_a_push_is_due(self):
        found, looks, _fake = self.wait(lambda n: n == 3, linger=1.0)
        self.assertTrue(found)
        self.assertEqual([round(t, 6) for t in looks], [0.02, 0.04, 0.06])

    def test_gives_up_after_the_linger(self):
        found, looks, fake = self.wait(lambda n: False, linger=0.1)
        self.assertFalse(found)
        self.assertEqual(len(looks), 5)
        self.assertAlmostEqual(fake.now, 0.1)

    def test_never_waits_past_the_deadline_nor_when_switched_off(self):
        # The worker's time slice ends 0.05 s from now (a wall-clock time): that caps the wait.
        found, looks, fake = self.wait(lambda n: False, linger=1.0, deadline=1000.05)
        self.assertFalse(found)
        self.assertAlmostEqual(fake.now, 0.05)
        self.assertEqual(fake.sleeps, [0.02, 0.02, 0.01])
        # A deadline already passed, or no wait configured: no look at all.
        for linger, deadline in ((1.0, 999.0), (0.0, None), (-1.0, None)):
            found, looks, fake = self.wait(lambda n: True, linger, deadline)
            self.assertEqual((found, looks, fake.sleeps), (False, [], []))
