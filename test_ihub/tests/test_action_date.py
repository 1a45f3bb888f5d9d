from datetime import datetime

from odoo.exceptions import AccessError

from odoo.addons.ihub.tests.common import run_integration

from .common import IHubCase


class TestActionDate(IHubCase):
    def test_created_empty_on_first_use_then_persisted(self):
        sub = self.create_test_integration()
        integration = sub.super_id.with_user(self.manager)
        action_date = integration.get_action_date("last_order_import_date")
        self.assertFalse(action_date.date)
        self.assertEqual(action_date.integration_id, sub.super_id)
        action_date.date = datetime(2026, 3, 1, 12, 0)
        again = sub.super_id.get_action_date("last_order_import_date")
        self.assertEqual(again, action_date)
        self.env.invalidate_all()
        self.assertEqual(again.date, datetime(2026, 3, 1, 12, 0))
        self.assertEqual(len(sub.super_id.action_date_ids), 1)

    def test_keys_are_per_integration(self):
        first = self.create_test_integration(name="A").super_id
        second = self.create_test_integration(name="B").super_id
        self.assertNotEqual(first.get_action_date("k"), second.get_action_date("k"))
        self.assertNotEqual(first.get_action_date("k"), first.get_action_date("other"))

    def test_also_reachable_from_the_sub_record(self):
        sub = self.create_test_integration()
        self.assertEqual(sub.super_id.get_action_date("k"), sub.get_action_date("k"))

    def test_read_only_users_read_but_only_runs_and_managers_create(self):
        sub = self.create_test_integration()
        integration = sub.super_id.with_user(self.ihub_user)
        with self.assertRaisesRegex(AccessError, "Only the integration's runs and iHub managers"):
            integration.get_action_date("new_key")
        existing = sub.super_id.get_action_date("existing_key")
        self.assertEqual(integration.get_action_date("existing_key"), existing)
        # A run of the integration (as its run user, an iHub user) records new keys.
        sub.super_id.with_user(self.manager).run_user_id = self.manager
        sub.sudo().run_user_id = self.ihub_user
        sub.sudo().record_action_date = "from_a_run"
        run_integration(integration)
        self.assertTrue(
            self.env["ihub.action.date"].search(
                [("integration_id", "=", sub.super_id.id), ("key", "=", "from_a_run")]
            )
        )
