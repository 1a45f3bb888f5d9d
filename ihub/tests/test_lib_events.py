"""The event helpers of ihub/lib, without a database."""

import json
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.events import (
    SUMMARY_MAX_LENGTH,
    format_details,
    format_summary,
    pop_raise_flag,
)

AUCKLAND = ZoneInfo("Pacific/Auckland")


class TestFormatDetails(BaseCase):
    def test_text_is_kept(self):
        self.assertEqual(format_details("plain"), "plain")
        self.assertEqual(format_details(b"bytes \xff"), "bytes \ufffd")

    def test_nothing_stays_empty(self):
        self.assertIs(format_details(None), False)
        self.assertIs(format_details(False), False)

    def test_structures_become_pretty_json_even_with_odd_values(self):
        text = format_details({"when": datetime(2026, 1, 2), "amount": Decimal("1.50"), "n": [1]})
        self.assertEqual(
            json.loads(text), {"amount": "1.50", "n": [1], "when": "2026-01-02T00:00:00+00:00"}
        )
        self.assertTrue(text.startswith("{\n  "))
        self.assertEqual(json.loads(format_details((1, "é"))), [1, "é"])
        self.assertIn("é", format_details(["é"]), "non-ASCII is kept readable")

    def test_times_in_details_say_they_are_utc(self):
        # Odoo's naive datetimes are UTC: the details say so instead of looking local.
        naive, aware = datetime(2026, 6, 1, 12, 0), datetime(2026, 6, 2, 0, 0, tzinfo=AUCKLAND)
        data = json.loads(format_details({"naive": naive, "aware": aware, "day": date(2026, 6, 2)}))
        self.assertEqual(data["naive"], "2026-06-01T12:00:00+00:00")
        self.assertEqual(data["aware"], "2026-06-02T00:00:00+12:00", "an offset given is kept")
        self.assertEqual(data["day"], "2026-06-02")

    def test_exception_gives_its_traceback(self):
        try:
            raise KeyError("missing")
        except KeyError as error:
            text = format_details(error)
        self.assertIn("Traceback (most recent call last)", text)
        self.assertTrue(text.endswith("KeyError: 'missing'"))

    def test_other_values_are_written_with_str(self):
        self.assertEqual(format_details(42), "42")


class TestFormatSummary(BaseCase):
    def test_one_line(self):
        self.assertEqual(format_summary("  two\n lines ", "info"), "two lines")

    def test_default_per_level(self):
        self.assertEqual(format_summary(None, "error"), "Error")
        self.assertEqual(format_summary("", "info"), "Information")

    def test_long_summary_is_cut(self):
        summary = format_summary("x" * 1000, "info")
        self.assertEqual(len(summary), SUMMARY_MAX_LENGTH)
        self.assertTrue(summary.endswith("…"))


class TestRaiseFlag(BaseCase):
    def test_keyword_spelling(self):
        self.assertTrue(pop_raise_flag(False, {"raise": True}))
        self.assertFalse(pop_raise_flag(False, {"raise": False}))
        self.assertTrue(pop_raise_flag(True, {}))

    def test_unknown_keyword_is_refused(self):
        with self.assertRaisesRegex(TypeError, "raize"):
            pop_raise_flag(False, {"raize": True})
