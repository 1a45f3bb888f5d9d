"""The REST API's list filters as a search domain (no database)."""

from datetime import datetime

from odoo.tests import BaseCase

from odoo.addons.ihub.lib import api

SINCE = datetime(2026, 5, 1)
UNTIL = datetime(2026, 6, 1)


class TestFilterDomain(BaseCase):
    def test_given_filters_become_equalities_on_their_field(self):
        values = {"state": "active", "type": "ihub.integration.demo", "page": 1}
        self.assertEqual(
            api.filter_domain(values, {"state": "state", "type": "model_name"}),
            [("state", "=", "active"), ("model_name", "=", "ihub.integration.demo")],
        )

    def test_filters_not_given_filter_nothing(self):
        values = {"state": None, "type": "", "since": SINCE}
        self.assertEqual(api.filter_domain(values, {"state": "state", "type": "model_name"}), [])

    def test_since_until_bound_the_period_field_half_open(self):
        values = {"since": SINCE, "until": UNTIL, "level": "error"}
        self.assertEqual(
            api.filter_domain(values, {"level": "level"}, period="date"),
            [("date", ">=", SINCE), ("date", "<", UNTIL), ("level", "=", "error")],
        )
        self.assertEqual(
            api.filter_domain({"until": UNTIL}, {}, period="queued_at"),
            [("queued_at", "<", UNTIL)],
        )
