"""Times in text people read are in their time zone, never UTC as stored (issue 9, item 2).

Each kind of text iHub writes a time into, read by someone in Pacific/Auckland (UTC+12 in
June), where 12:00 UTC on June 1 is midnight on June 2: the local time appears, the UTC one does
not. The REST API and webhook payloads are left out on purpose: ISO 8601 with an offset is right
there.
"""

from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form

from odoo.addons.ihub.lib.progress import RunProgress

from .common import IHubCase

AUCKLAND = "Pacific/Auckland"
NOW = datetime(2026, 6, 1, 12, 0, 0)  # Jun 2, 2026, 12:00:00 AM in Auckland


class TestLocalTimes(IHubCase):
    def setUp(self):
        super().setUp()
        self.manager.tz = AUCKLAND
        self.ihub_user.tz = AUCKLAND
        self.sub = self.create_test_integration(name="Shop Orders")
        self.integration = self.sub.super_id

    def assertLocalNotUtc(self, text, local, utc):  # noqa: N802
        self.assertIn(local, text)
        self.assertNotIn(utc, text)

    # ---- The helpers every text goes through

    def test_a_time_is_written_in_the_readers_zone_and_names_it(self):
        record = self.env["ihub.integration"]
        self.assertEqual(
            record._ihub_format_time(NOW, user=self.manager),
            "Jun 2, 2026, 12:00:00 AM (Pacific/Auckland)",
        )
        # Read at once beside fields in the user's zone: the zone goes without saying.
        self.assertEqual(
            record._ihub_format_time(NOW, user=self.manager, zone=False), "Jun 2, 2026, 12:00:00 AM"
        )
        self.assertEqual(
            record._ihub_format_period(None, NOW, user=self.manager),
            "… – Jun 2, 2026, 12:00:00 AM (Pacific/Auckland)",
            "an open start; the zone named once",
        )

    def test_a_reader_without_zone_reads_the_companys_then_utc_always_named(self):
        self.manager.tz = False
        record = self.env["ihub.integration"].with_company(self.company)
        self.company.partner_id.tz = AUCKLAND
        self.assertEqual(
            record._ihub_format_time(NOW, user=self.manager, zone=False),
            "Jun 2, 2026, 12:00:00 AM (Pacific/Auckland)",
            "not the user's own zone: named even for a message read at once",
        )
        self.company.partner_id.tz = False
        self.assertEqual(
            record._ihub_format_time(NOW, user=self.manager, zone=False),
            "Jun 1, 2026, 12:00:00 PM (UTC)",
        )

    # ---- Chatter message and to-do of a failure, written for the responsible

    def test_failure_notice_and_its_todo_are_in_the_responsibles_zone(self):
        with freeze_time(NOW):
            # Failed by an operator in another zone: the notice is for the responsible.
            self.ihub_user.tz = "America/New_York"
            self.integration.with_user(self.ihub_user).fail("The shop is down")
        bot = self.env.ref("base.partner_root")
        notice = self.integration.message_ids.filtered(
            lambda m: m.author_id == bot and "stopped at" in (m.body or "")
        )
        self.assertEqual(len(notice), 1)
        local, utc = "Jun 2, 2026, 12:00:00 AM (Pacific/Auckland)", "12:00:00 PM"
        self.assertLocalNotUtc(str(notice.body), local, utc)
        self.assertNotIn("America/New_York", str(notice.body))
        (activity,) = self.integration._open_failure_activities()
        self.assertLocalNotUtc(str(activity.note), local, utc)

    def test_failure_notice_of_a_responsible_without_zone_uses_the_companys(self):
        self.manager.tz = False
        self.company.partner_id.tz = AUCKLAND
        with freeze_time(NOW):
            self.integration.with_user(self.manager).fail("The shop is down")
        (activity,) = self.integration._open_failure_activities()
        self.assertLocalNotUtc(
            str(activity.note), "Jun 2, 2026, 12:00:00 AM (Pacific/Auckland)", "12:00:00 PM"
        )

    # ---- Run Manually's messages, read at once by the user who asks

    @freeze_time(NOW)
    def test_a_future_period_is_refused_in_the_users_time(self):
        operator = self.integration.with_user(self.ihub_user)
        with self.assertRaisesRegex(UserError, "still to come") as caught:
            operator._run_manually(NOW + timedelta(hours=2), NOW + timedelta(hours=3))
        # 14:00 UTC is 2:00 AM on June 2 in Auckland.
        self.assertLocalNotUtc(str(caught.exception), "Jun 2, 2026, 2:00:00 AM", "2:00:00 PM")

    @freeze_time(NOW)
    def test_the_overlap_warning_gives_the_queued_period_in_the_users_time(self):
        operator = self.integration.with_user(self.ihub_user)
        operator._run_manually(NOW - timedelta(hours=4), NOW - timedelta(hours=2))
        wizard = Form(
            self.env["ihub.run.wizard"]
            .with_user(self.ihub_user)
            .with_context(default_integration_id=self.integration.id)
        )
        wizard.date_from, wizard.date_to = NOW - timedelta(hours=3), NOW - timedelta(hours=1)
        # 08:00-10:00 UTC is 8:00-10:00 PM on June 1 in Auckland.
        self.assertLocalNotUtc(
            wizard.overlap_warning,
            "Jun 1, 2026, 8:00:00 PM – Jun 1, 2026, 10:00:00 PM",
            "8:00:00 AM",
        )

    # ---- A run's page: its timeline, and its note when paused

    @freeze_time(NOW)
    def test_the_run_timeline_is_in_the_readers_zone(self):
        job = self.integration._run_manually(NOW - timedelta(hours=1), NOW)
        self.run_due_jobs()
        self.assertEqual(job.state, "done")
        self.assertLocalNotUtc(
            str(job.with_user(self.ihub_user).timeline), "Jun 2, 2026, 12:00:00 AM", "12:00:00 PM"
        )
        # Computed for each reader: one in New York reads their own time (8:00 AM on June 1).
        self.ihub_user.tz = "America/New_York"
        job.invalidate_recordset(["timeline"])
        self.assertIn("Jun 1, 2026, 8:00:00 AM", str(job.with_user(self.ihub_user).timeline))
        # A reader without a zone of their own is told which one the times are in.
        self.ihub_user.tz = False
        self.company.partner_id.tz = False
        job.invalidate_recordset(["timeline"])
        self.assertIn("Jun 1, 2026, 12:00:00 PM (UTC)", str(job.with_user(self.ihub_user).timeline))

    def test_a_paused_run_says_how_far_it_got_not_its_raw_checkpoint(self):
        job = self.env["ihub.job"]._enqueue(self.integration, "manual")
        checkpoint = '{"step": "orders", "cursor": "2026-06-01T12:00:00|42"}'
        job._record_pause(RunProgress(checkpoint=checkpoint, committed={"processed_count": 40}))
        self.assertIn("40 processed", job.note)
        self.assertNotIn("2026-06-01T12:00:00", job.note)

    # ---- To-dos about credentials, and names with today's date

    def test_a_token_expiry_is_warned_on_the_responsibles_calendar(self):
        sub = self.as_manager("ihub.integration.test.credential").create(
            {"name": "With token", "user_id": self.manager.id}
        )
        # 13:00 UTC on June 1 is already June 2 in Auckland.
        sub.super_id.credential_ids.sudo().refresh_token_expires_at = NOW + timedelta(hours=1)
        with freeze_time(NOW - timedelta(days=3)):
            self.env["ihub.credential"]._cron_warn_expiring()
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "ihub.integration"), ("res_id", "=", sub.super_id.id)]
        )
        self.assertEqual(len(activity), 1)
        self.assertLocalNotUtc(str(activity.note), "06/02/2026", "06/01/2026")
        self.assertEqual(activity.date_deadline, date(2026, 6, 2))

    @freeze_time(NOW)
    def test_a_new_signing_secret_is_named_with_the_users_today(self):
        sub = self.as_manager("ihub.integration.test.webhook").create(
            {"name": "Shop pushes", "user_id": self.manager.id}
        )
        sub.super_id.with_user(self.manager).action_generate_webhook_secret()
        names = sub.super_id.credential_ids.mapped("name")
        self.assertIn("Webhook signing secret 06/02/2026", names, "June 2 in Auckland")
