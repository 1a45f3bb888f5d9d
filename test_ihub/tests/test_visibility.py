"""What hangs off an integration is visible exactly to those who may see the integration."""

from odoo import Command
from odoo.tests import new_test_user

from .common import IHubCase


class TestVisibility(IHubCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.home_user = new_test_user(
            cls.env,
            login="ihub_home_only",
            groups="ihub.group_ihub_user",
            company_ids=[Command.set(cls.company.ids)],
            company_id=cls.company.id,
        )
        cls.other_user = new_test_user(
            cls.env,
            login="ihub_other_only",
            groups="ihub.group_ihub_user",
            company_ids=[Command.set(cls.other_company.ids)],
            company_id=cls.other_company.id,
        )

    def test_events_without_an_integration_are_for_managers_only(self):
        log = self.env["res.partner"].with_user(self.manager).ihub_warning("no integration")
        self.assertFalse(log.integration_id)
        self.assertFalse(
            self.env["ihub.log"].with_user(self.ihub_user).search([("id", "=", log.id)])
        )
        self.assertTrue(self.env["ihub.log"].with_user(self.manager).search([("id", "=", log.id)]))

    def test_history_of_another_company_integration_is_hidden(self):
        other = self.create_test_integration(company_id=self.other_company.id).super_id
        other.ihub_info("other company")
        other.get_action_date("k")
        job = other._run_manually(None, other.create_date)
        for model, record in (
            ("ihub.log", other.log_ids),
            ("ihub.job", job),
            ("ihub.action.date", other.action_date_ids),
        ):
            with self.subTest(model=model):
                self.assertFalse(
                    self.env[model].with_user(self.home_user).search([("id", "in", record.ids)])
                )
                self.assertEqual(
                    self.env[model].with_user(self.other_user).search([("id", "in", record.ids)]),
                    record,
                )

    def test_history_of_an_all_companies_integration_is_visible_in_each(self):
        everywhere = (
            self.as_manager("ihub.integration.test.global")
            .create({"name": "All companies", "company_id": False})
            .super_id
        )
        log = everywhere.ihub_info("for all")
        self.assertFalse(log.company_id)
        for user in (self.home_user, self.other_user):
            with self.subTest(user=user.login):
                self.assertEqual(
                    self.env["ihub.log"].with_user(user).search([("id", "=", log.id)]), log
                )

    def test_archived_integration_history_stays_visible(self):
        integration = self.create_test_integration().super_id
        log = integration.ihub_info("before archiving")
        integration.active = False
        self.assertEqual(
            self.env["ihub.log"].with_user(self.home_user).search([("id", "=", log.id)]), log
        )
