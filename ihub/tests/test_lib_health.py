"""The dashboard's health rules of ihub/lib, without a database."""

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.health import (
    HEALTH_COLORS,
    PROGRESS_UPDATE_SECONDS,
    health,
    is_stale,
    progress_update_due,
)

NOW = datetime(2026, 3, 1, 12, 0)
HOUR = relativedelta(hours=1)


class TestHealth(BaseCase):
    def test_failures_come_first(self):
        self.assertEqual(health("failed", 0, False), "failing")
        self.assertEqual(health("active", 2, True), "failing")
        self.assertEqual(health("draft", 1, False), "failing")

    def test_started_integrations_are_ok_or_late(self):
        self.assertEqual(health("active", 0, False), "ok")
        self.assertEqual(health("active", 0, True), "late")

    def test_not_started_is_idle(self):
        self.assertEqual(health("draft", 0, False), "idle")
        self.assertEqual(health("stopped", 0, True), "idle")

    def test_every_health_has_a_colour(self):
        for value in ("failing", "late", "ok", "idle"):
            self.assertIn(value, HEALTH_COLORS)


class TestStale(BaseCase):
    def test_counts_intervals_from_the_last_success(self):
        success = NOW - timedelta(hours=3)
        self.assertFalse(is_stale(NOW, success, None, HOUR, 3))
        self.assertTrue(is_stale(NOW + timedelta(minutes=1), success, None, HOUR, 3))

    def test_or_from_the_start_when_it_never_succeeded_since(self):
        started = NOW - timedelta(hours=2)
        long_ago = NOW - timedelta(days=30)
        self.assertFalse(is_stale(NOW, long_ago, started, HOUR, 3))
        self.assertTrue(is_stale(NOW, None, NOW - timedelta(hours=4), HOUR, 3))

    def test_months_are_calendar_months(self):
        month = relativedelta(months=1)
        started = datetime(2026, 1, 31)
        self.assertFalse(is_stale(datetime(2026, 2, 28), None, started, month, 1))
        self.assertTrue(is_stale(datetime(2026, 3, 1), None, started, month, 1))

    def test_zero_intervals_or_no_reference_is_never_stale(self):
        self.assertFalse(is_stale(NOW, None, NOW - timedelta(days=9), HOUR, 0))
        self.assertFalse(is_stale(NOW, None, None, HOUR, 3))


class TestProgressUpdates(BaseCase):
    def test_at_most_one_per_period(self):
        self.assertTrue(progress_update_due(None, 100.0))
        self.assertFalse(progress_update_due(100.0, 100.0 + PROGRESS_UPDATE_SECONDS / 2))
        self.assertTrue(progress_update_due(100.0, 100.0 + PROGRESS_UPDATE_SECONDS))
