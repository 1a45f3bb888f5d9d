"""Value maps: translating the other system's values, and who may edit them."""

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, new_test_user
from odoo.tools import mute_logger

from odoo.addons.ihub.lib.exceptions import IHubError
from odoo.addons.ihub.tests.common import run_integration

from .common import IHubCase


class TestValueMap(IHubCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub = (
            cls.env["ihub.integration.test.mapper"]
            .with_user(cls.manager)
            .create({"name": "Shop", "user_id": cls.manager.id})
        )
        cls.integration = cls.sub.super_id
        cls.germany = cls.env.ref("base.de")
        cls.france = cls.env.ref("base.fr")
        ValueMap = cls.env["ihub.value.map"].with_user(cls.manager)
        cls.statuses = ValueMap.create(
            {
                "integration_id": cls.integration.id,
                "name": "Order Statuses",
                "code": "order_status",
                "line_ids": [
                    Command.create({"external_value": "paid", "odoo_value": "sale"}),
                    Command.create({"external_value": "open", "odoo_value": "draft"}),
                    Command.create({"external_value": "new", "odoo_value": "draft"}),
                ],
            }
        )
        cls.countries = ValueMap.create(
            {
                "integration_id": cls.integration.id,
                "name": "Countries",
                "code": "country",
                "res_model": "res.country",
                "line_ids": [
                    Command.create({"external_value": "DEU", "res_id": cls.germany.id}),
                    Command.create({"external_value": "DE", "res_id": cls.germany.id}),
                    Command.create({"external_value": "FRA", "res_id": cls.france.id}),
                ],
            }
        )

    def value_map(self, code, user=None):
        return self.integration.with_user(user or self.ihub_user).ihub_value_map(code)

    def test_mapped_values_both_ways(self):
        statuses = self.value_map("order_status")
        self.assertEqual(statuses.to_odoo("paid"), "sale")
        self.assertEqual(
            statuses.to_odoo_many(["open", "paid", "open"]), {"open": "draft", "paid": "sale"}
        )
        self.assertEqual(statuses.to_external("draft"), "open", "the first line by sequence")
        countries = self.value_map("country")
        germany = countries.to_odoo("DE")
        self.assertEqual(germany, self.germany)
        self.assertEqual(germany.env.uid, self.ihub_user.id, "in the caller's env")
        self.assertEqual(countries.to_external(self.france), "FRA")
        self.assertEqual(countries.to_external(self.germany), "DEU")

    def test_the_sub_record_offers_the_same_maps(self):
        self.assertEqual(
            self.sub.with_user(self.ihub_user).ihub_value_map("order_status").to_odoo("paid"),
            "sale",
        )

    def test_unmapped_value_names_the_map_and_the_value_with_a_link(self):
        statuses = self.value_map("order_status")
        url = f"/odoo/ihub-value-maps/{self.statuses.id}"
        with self.assertRaises(IHubError) as caught:
            statuses.to_odoo("refunded")
        message = str(caught.exception)
        for part in ("Order Statuses", "order_status", "'refunded'", "no default", url):
            self.assertIn(part, message)
        with self.assertRaisesRegex(IHubError, r"'lost', 'stolen'.*ihub-value-maps"):
            statuses.to_odoo_many(["paid", "lost", "stolen"])
        with self.assertRaisesRegex(IHubError, "Odoo value 'cancel'"):
            statuses.to_external("cancel")
        with self.assertRaisesRegex(IHubError, "Odoo value 'Spain'"):
            self.value_map("country").to_external(self.env.ref("base.es"))

    def test_default(self):
        self.statuses.with_user(self.manager).default_value = "draft"
        self.assertEqual(self.value_map("order_status").to_odoo("anything"), "draft")
        self.countries.with_user(self.manager).default_res_id = self.france.id
        self.assertEqual(self.value_map("country").to_odoo("XX"), self.france)
        with self.assertRaisesRegex(ValidationError, "its default is a record"):
            self.countries.with_user(self.manager).default_value = "Germany"
        with self.assertRaisesRegex(ValidationError, "its default is a value"):
            self.statuses.with_user(self.manager).default_res_id = self.france.id

    def test_unknown_map(self):
        with self.assertRaisesRegex(IHubError, "no value map with code nope"):
            self.value_map("nope").to_odoo("x")

    def test_one_query_per_map_load(self):
        statuses = self.value_map("order_status")
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        statuses.to_odoo("paid")
        statuses.to_odoo_many(["open", "new"])
        statuses.to_external("sale")
        self.assertEqual(self.env.cr.sql_log_count - before, 1)
        countries = self.value_map("country")
        before = self.env.cr.sql_log_count
        countries.to_odoo_many(["DE", "FRA"])
        countries.to_external(self.france)
        self.assertEqual(self.env.cr.sql_log_count - before, 2, "the map, then its records exist")

    def test_a_line_whose_record_was_deleted_maps_nothing(self):
        country = self.env["res.country"].create({"name": "Atlantis", "code": "XA"})
        self.countries.with_user(self.manager).line_ids = [
            Command.create({"external_value": "ATL", "res_id": country.id})
        ]
        self.assertEqual(self.value_map("country").to_odoo("ATL"), country)
        country.unlink()
        with self.assertRaisesRegex(IHubError, "'ATL'"):
            self.value_map("country").to_odoo("ATL")

    def test_lines_must_fit_the_map(self):
        with self.assertRaisesRegex(ValidationError, "must point to a record"):
            self.countries.with_user(self.manager).line_ids = [
                Command.create({"external_value": "X", "odoo_value": "Germany"})
            ]
        with self.assertRaisesRegex(ValidationError, "has no model"):
            self.statuses.with_user(self.manager).line_ids = [
                Command.create({"external_value": "X", "res_id": self.france.id})
            ]

    @mute_logger("odoo.sql_db")
    def test_codes_and_external_values_are_unique(self):
        with self.assertRaises(psycopg2.IntegrityError):
            self.env["ihub.value.map"].with_user(self.manager).create(
                {"integration_id": self.integration.id, "name": "Again", "code": "order_status"}
            )
        with self.assertRaises(psycopg2.IntegrityError):
            self.env["ihub.value.map.line"].with_user(self.manager).create(
                {"map_id": self.statuses.id, "external_value": "paid", "odoo_value": "x"}
            )

    def test_a_manager_edits_lines_in_the_form_a_user_cannot(self):
        with Form(self.statuses.with_user(self.manager)) as form:
            with form.line_ids.new() as line:
                line.external_value = "refunded"
                line.odoo_value = "cancel"
            with form.line_ids.edit(0) as line:
                line.odoo_value = "done"
        self.assertEqual(
            self.value_map("order_status").to_odoo_many(["refunded", "paid"]),
            {"refunded": "cancel", "paid": "done"},
        )
        as_user = self.statuses.with_user(self.ihub_user)
        self.assertEqual(len(as_user.line_ids), 4, "users read the lines")
        with self.assertRaises(AccessError):
            as_user.line_ids[0].odoo_value = "stolen"
        with self.assertRaises(AccessError):
            as_user.write(
                {"line_ids": [Command.create({"external_value": "x", "odoo_value": "y"})]}
            )
        with self.assertRaises(AccessError):
            self.env["ihub.value.map"].with_user(self.ihub_user).create(
                {"integration_id": self.integration.id, "name": "Mine", "code": "mine"}
            )

    def test_company_visibility_follows_the_integration(self):
        home_only = new_test_user(
            self.env,
            login="ihub_value_map_home",
            groups="ihub.group_ihub_user",
            company_ids=[Command.set(self.company.ids)],
            company_id=self.company.id,
        )
        elsewhere = (
            self.env["ihub.integration.test.mapper"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Elsewhere",
                    "user_id": self.manager.id,
                    "company_id": self.other_company.id,
                }
            )
        )
        hidden = (
            self.env["ihub.value.map"]
            .with_user(self.manager)
            .create(
                {
                    "integration_id": elsewhere.super_id.id,
                    "name": "Hidden",
                    "code": "hidden",
                    "line_ids": [Command.create({"external_value": "a", "odoo_value": "b"})],
                }
            )
        )
        for model, record in (("ihub.value.map", hidden), ("ihub.value.map.line", hidden.line_ids)):
            with self.subTest(model=model):
                self.assertFalse(
                    self.env[model].with_user(home_only).search([("id", "=", record.id)])
                )
                self.assertEqual(
                    self.env[model].with_user(self.ihub_user).search([("id", "=", record.id)]),
                    record,
                )
        with self.assertRaises(AccessError):
            elsewhere.super_id.with_user(home_only).ihub_value_map("hidden")

    def test_a_run_translates_as_its_plain_ihub_user(self):
        self.statuses.with_user(self.manager).line_ids = [
            Command.create({"external_value": "in", "odoo_value": "incoming"})
        ]
        self.sub.sudo().write({"value_map_code": "order_status", "run_user_id": self.ihub_user.id})
        job = run_integration(self.integration.with_user(self.ihub_user))
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(self.sub.result, "in=incoming")
