from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from .common import IHubCase


class TestAccess(IHubCase):
    def setUp(self):
        super().setUp()
        self.sub = self.create_test_integration(name="Secured")
        self.integration = self.sub.super_id
        self.sub.ihub_info("an event")
        self.integration.get_action_date("k")

    def test_internal_user_without_ihub_group_sees_nothing(self):
        for model in (
            "ihub.integration",
            "ihub.log",
            "ihub.action.date",
            "ihub.integration.test",
            "ihub.integration.type",
        ):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.internal_user).search([])

    def test_ihub_user_reads_and_operates_but_does_not_configure(self):
        integration = self.integration.with_user(self.ihub_user)
        self.assertEqual(integration.name, "Secured")
        self.assertEqual(integration.log_ids.summary, "an event")
        self.assertEqual(integration.sub_id.name, "Secured")
        integration.action_start()
        self.assertEqual(integration.state, "active")
        with self.assertRaises(AccessError):
            integration.name = "Renamed"
        with self.assertRaises(AccessError):
            integration.sub_id.setting = "changed"
        with self.assertRaises(AccessError):
            self.env["ihub.integration.test"].with_user(self.ihub_user).create({"name": "New"})
        with self.assertRaises(AccessError):
            integration.unlink()
        with self.assertRaises(AccessError):
            integration.action_date_ids.with_user(self.ihub_user).date = "2026-01-01"
        with self.assertRaises(AccessError):
            integration.log_ids.with_user(self.ihub_user).unlink()

    def test_manager_configures_and_deletes(self):
        integration = self.integration.with_user(self.manager)
        integration.name = "Renamed"
        integration.sub_id.setting = "changed"
        integration.action_date_ids.date = "2026-01-01 00:00:00"
        self.assertEqual(self.sub.setting, "changed")
        integration.log_ids.unlink()
        integration.unlink()
        self.assertFalse(self.sub.exists())

    def test_nobody_edits_events(self):
        log = self.integration.log_ids.with_user(self.manager)
        with self.assertRaises(AccessError):
            log.summary = "rewritten"

    def test_companies_are_kept_apart(self):
        other = self.create_test_integration(name="Other company", company_id=self.other_company.id)
        other.ihub_info("other company event")
        one_company_user = new_test_user(
            self.env,
            login="ihub_user_one_company",
            groups="ihub.group_ihub_user",
            company_ids=[Command.set(self.company.ids)],
            company_id=self.company.id,
        )
        Integration = self.env["ihub.integration"].with_user(one_company_user)
        self.assertEqual(
            Integration.search([("type_id", "=", self.type_test.id)]), self.integration
        )
        Log = self.env["ihub.log"].with_user(one_company_user)
        self.assertFalse(Log.search([("summary", "=", "other company event")]))
        self.assertTrue(Log.search([("summary", "=", "an event")]))
        Sub = self.env["ihub.integration.test"].with_user(one_company_user)
        self.assertEqual(Sub.search([]), self.sub, "sub-records follow the company rule too")
        with self.assertRaises(AccessError):
            other.with_user(one_company_user).setting  # noqa: B018
        with self.assertRaises(AccessError):
            Log.ihub_info("forged", integration=other.super_id.id)
        ActionDate = self.env["ihub.action.date"].with_user(one_company_user)
        other.get_action_date("k")
        self.assertEqual(ActionDate.search([]).integration_id, self.integration)
        with self.assertRaises(AccessError):
            other.super_id.with_user(one_company_user).name  # noqa: B018

    def test_integration_for_all_companies_is_visible_in_each(self):
        global_sub = self.as_manager("ihub.integration.test.global").create(
            {"name": "All", "company_id": False}
        )
        one_company_user = new_test_user(
            self.env,
            login="ihub_user_other",
            groups="ihub.group_ihub_user",
            company_ids=[Command.set(self.other_company.ids)],
            company_id=self.other_company.id,
        )
        self.assertEqual(global_sub.super_id.with_user(one_company_user).name, "All")
