"""History that grows without bound: what the form and dashboard read of it, retention, and
what a neutralized copy of the database keeps running."""

from datetime import timedelta

from odoo import fields
from odoo.modules.neutralize import get_neutralization_queries

from .common import IHubCase


class TestHistory(IHubCase):
    def setUp(self):
        super().setUp()
        self.sub = self.create_test_integration(name="Busy")
        self.integration = self.sub.super_id

    def add_events(self, count, days_ago=0, level="info"):
        date = fields.Datetime.now() - timedelta(days=days_ago)
        self.env["ihub.log"].flush_model()
        self.env.cr.execute(
            """
            INSERT INTO ihub_log (date, level, summary, integration_id, company_id)
            SELECT %s - n * interval '1 second', %s, 'event ' || n, %s, %s
              FROM generate_series(1, %s) n
            """,
            [date, level, self.integration.id, self.integration.company_id.id, count],
        )
        self.env.invalidate_all()

    def test_form_shows_the_latest_history_and_a_capped_count(self):
        cap = self.integration.COUNT_CAP
        self.add_events(cap + 5, days_ago=1)
        self.sub.ihub_error("the newest")
        integration = self.integration.with_user(self.ihub_user)
        self.assertEqual(len(integration.recent_log_ids), integration.RECENT_LIMIT)
        self.assertEqual(integration.recent_log_ids[0].summary, "the newest")
        self.assertEqual(integration.log_count_label, f"{cap}+")
        self.assertEqual(integration.last_log_summary, "the newest")
        self.assertTrue(integration.last_error_date)
        action = integration.action_open_logs()
        self.assertEqual(action["context"], {"search_default_integration_id": self.integration.id})

    def test_runs_page_shows_the_latest_runs(self):
        now = fields.Datetime.now()
        for hour in range(self.integration.RECENT_LIMIT + 3):
            # One hour each: Run Manually refuses a second run of a period already queued.
            self.integration._run_manually(
                now - timedelta(hours=hour + 1), now - timedelta(hours=hour)
            )
        self.run_due_jobs()
        self.env.invalidate_all()  # as a new request would start
        integration = self.integration.with_user(self.ihub_user)
        self.assertEqual(len(integration.recent_job_ids), integration.RECENT_LIMIT)
        self.assertEqual(integration.job_count_label, str(integration.RECENT_LIMIT + 3))
        self.assertEqual(integration.last_job_id, integration.recent_job_ids[0])
        self.assertEqual(integration.action_open_jobs()["res_model"], "ihub.job")

    def test_old_history_is_purged_in_batches_new_and_running_kept(self):
        self.add_events(30, days_ago=100)
        self.add_events(5, days_ago=10)
        old_run = self.integration._run_manually(None, fields.Datetime.now())
        self.run_due_jobs()
        old_run.ended_at = fields.Datetime.now() - timedelta(days=400)
        pending = self.integration._run_manually(None, fields.Datetime.now())
        pending.ended_at = fields.Datetime.now() - timedelta(days=400)  # never ended, kept
        purged = self.env["ihub.job"]._cron_purge_history(batch_size=7)
        self.assertEqual(purged, {"ihub.log": 30, "ihub.job": 1})
        self.assertFalse(old_run.exists())
        self.assertTrue(pending.exists())
        self.assertEqual(self.integration.log_count, 5)
        self.env["ir.config_parameter"].set_param("ihub.event_retention_days", "0")
        self.add_events(3, days_ago=1000)
        self.assertNotIn("ihub.log", self.env["ihub.job"]._cron_purge_history())

    def test_neutralizing_a_copy_stops_integrations_and_their_runs(self):
        self.integration.action_start()
        self.env["ihub.integration"]._cron_run_scheduled(self.integration.id)
        self.assertEqual(self.integration.job_ids.state, "pending")
        queries = list(get_neutralization_queries(["ihub"]))
        self.assertTrue(queries, "ihub ships data/neutralize.sql")
        self.env.flush_all()
        for query in queries:
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertEqual(self.integration.state, "stopped")
        self.assertFalse(self.integration.sudo().cron_id.active)
        self.assertEqual(self.integration.job_ids.state, "cancelled")
        self.assertTrue(self.integration.job_ids.ended_at)
