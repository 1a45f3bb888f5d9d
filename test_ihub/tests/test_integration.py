from odoo.exceptions import UserError, ValidationError

from odoo.addons.ihub.lib.integration import AbstractIntegration

from .common import IHubCase


class TestIntegration(IHubCase):
    def test_create_from_sub_model_links_both_records_and_sets_type(self):
        sub = self.create_test_integration(name="Shop", setting="x")
        self.assertEqual(sub.super_id.type_id, self.type_test)
        self.assertEqual(sub.super_id.name, "Shop")
        self.assertEqual(sub.name, "Shop", "super fields are readable on the sub-record")
        self.assertEqual(sub.super_id.sub_id, sub)
        self.assertEqual(sub.super_id.sub_id._name, "ihub.integration.test")
        self.assertEqual(sub.super_id.state, "draft")
        self.assertEqual(
            self.env["ihub.integration.test"].search_count([("super_id", "=", sub.super_id.id)]),
            1,
        )

    def test_create_from_super_creates_the_sub_record(self):
        integration = self.as_manager("ihub.integration").create(
            {"name": "From the app", "type_id": self.type_test.id}
        )
        sub = integration.sub_id
        self.assertEqual(sub._name, "ihub.integration.test")
        self.assertEqual(len(sub), 1)
        self.assertEqual(sub.super_id, integration)
        self.assertEqual(
            self.env["ihub.integration.test"].search_count([("super_id", "=", integration.id)]),
            1,
            "exactly one sub-record",
        )

    def test_sub_model_without_name_takes_the_type_name(self):
        sub = self.as_manager("ihub.integration.test").create({})
        self.assertEqual(sub.name, self.type_test.name)

    def test_sub_id_keeps_order_and_refuses_mixed_models(self):
        first = self.create_test_integration(name="A")
        second = self.create_test_integration(name="B")
        supers = second.super_id | first.super_id
        self.assertEqual(supers.sub_id.ids, [second.id, first.id])
        passive = self.as_manager("ihub.integration.test.passive").create({"name": "P"})
        with self.assertRaises(ValueError):
            (supers | passive.super_id).sub_id  # noqa: B018

    def test_deleting_the_sub_record_deletes_the_integration(self):
        sub = self.create_test_integration()
        integration = sub.super_id
        sub.unlink()
        self.assertFalse(integration.exists())

    def test_deleting_the_integration_deletes_the_sub_record(self):
        sub = self.create_test_integration()
        integration = sub.super_id
        integration.ihub_info("before delete")
        integration.unlink()
        self.assertFalse(sub.exists())
        self.assertFalse(self.env["ihub.log"].search([("integration_id", "=", integration.id)]))

    def test_type_cannot_change(self):
        sub = self.create_test_integration()
        with self.assertRaises(UserError):
            sub.super_id.type_id = self.type_passive

    def test_singleton_refuses_a_second_integration_in_the_same_company(self):
        Singleton = self.as_manager("ihub.integration.test.singleton")
        first = Singleton.create({"name": "One"})
        with self.assertRaisesRegex(ValidationError, "Only one 'Test Singleton'"):
            Singleton.create({"name": "Two"})
        # Archived still counts: restoring it would make two.
        first.active = False
        with self.assertRaisesRegex(ValidationError, "archived"):
            Singleton.create({"name": "Two"})
        # Another company may have its own.
        other = Singleton.create({"name": "Other", "company_id": self.other_company.id})
        self.assertEqual(other.company_id, self.other_company)

    def test_singleton_created_from_the_app_is_refused_too(self):
        self.as_manager("ihub.integration.test.singleton").create({"name": "One"})
        with self.assertRaises(ValidationError):
            self.as_manager("ihub.integration").create(
                {"name": "Two", "type_id": self.type_singleton.id}
            )

    def test_multi_company_singleton_is_unique_across_companies(self):
        Global = self.as_manager("ihub.integration.test.global")
        Global.create({"name": "One", "company_id": False})
        with self.assertRaises(ValidationError):
            Global.create({"name": "Two", "company_id": self.other_company.id})

    def test_company_is_required_unless_multi_company_compatible(self):
        with self.assertRaisesRegex(ValidationError, "company"):
            self.create_test_integration(company_id=False)
        global_sub = self.as_manager("ihub.integration.test.global").create(
            {"name": "All companies", "company_id": False}
        )
        self.assertFalse(global_sub.company_id)

    def test_flags_on_sub_and_super(self):
        sub = self.create_test_integration()
        self.assertIs(sub.is_job, True)
        self.assertIs(sub.is_singleton, False)
        self.assertEqual(sub.delay.total_seconds(), 30)
        self.assertTrue(sub.super_id.is_job)
        self.assertTrue(sub.super_id.is_manually_runnable)
        self.assertTrue(sub.super_id.has_time_period)
        self.assertFalse(sub.super_id.is_singleton)
        self.assertFalse(sub.super_id.is_multi_company_compatible)
        global_sub = self.as_manager("ihub.integration.test.global").create(
            {"name": "G", "company_id": False}
        )
        integration = global_sub.super_id
        self.assertEqual(
            [
                integration.is_job,
                integration.has_time_period,
                integration.is_singleton,
                integration.is_multi_company_compatible,
            ],
            [False, False, True, True],
        )
        # The sub-model keeps its class attributes: not replaced by delegated fields.
        self.assertNotIn("is_singleton", global_sub._fields)
        self.assertIs(type(global_sub).is_singleton, True)
        self.assertIsInstance(global_sub, AbstractIntegration)

    def test_fail_sets_state_tracks_and_notifies_responsible(self):
        sub = self.create_test_integration(user_id=self.manager.id)
        integration = sub.super_id
        self.env.cr.flush()  # as if created in an earlier transaction: changes are tracked
        sub.with_user(self.ihub_user).fail("the bank is down")
        self.env.cr.flush()  # tracking values are written when the transaction is flushed
        self.assertEqual(integration.state, "failed")
        integration.invalidate_recordset(["message_ids"])
        messages = integration.sudo().message_ids
        self.assertTrue(
            messages.filtered(lambda m: self.manager.partner_id in m.partner_ids),
            "the responsible user is notified",
        )
        self.assertTrue(
            messages.tracking_value_ids.filtered(
                lambda t: t.field_id.name == "state" and t.new_value_char == "Failed"
            ),
            "the state change is tracked in the chatter",
        )
        error = integration.log_ids.filtered(lambda log: log.level == "error")
        self.assertIn("the bank is down", error.summary)

    def test_lifecycle_buttons(self):
        integration = self.create_test_integration().super_id.with_user(self.ihub_user)
        integration.action_start()
        self.assertEqual(integration.state, "active")
        integration.action_stop()
        self.assertEqual(integration.state, "stopped")
        integration.sudo().state = "failed"
        integration.action_reset()
        self.assertEqual(integration.state, "stopped")
        passive = self.as_manager("ihub.integration.test.passive").create({"name": "P"})
        with self.assertRaises(UserError):
            passive.super_id.with_user(self.ihub_user).action_start()
        with self.assertRaises(UserError):
            passive.super_id.with_user(self.ihub_user).action_run_manually()

    def test_run_manually_over_a_period_runs_in_company_with_integration_in_context(self):
        sub = self.create_test_integration(company_id=self.other_company.id)
        integration = sub.super_id.with_user(self.ihub_user)
        action = integration.action_run_manually()
        self.assertEqual(action["res_model"], "ihub.run.wizard")
        wizard = (
            self.env["ihub.run.wizard"]
            .with_user(self.ihub_user)
            .with_context(**action["context"])
            .create({"date_from": "2026-01-01 00:00:00", "date_to": "2026-01-02 00:00:00"})
        )
        wizard.action_run()
        self.assertFalse(sub.calls, "queued, not run in the request")
        self.run_due_jobs()
        (call,) = sub.calls.splitlines()
        self.assertEqual(
            call.split("|")[:4],
            [
                "2026-01-01 00:00:00",
                "2026-01-02 00:00:00",
                str(self.other_company.id),
                str(integration.id),
            ],
        )

    def test_run_manually_refuses_an_empty_period(self):
        sub = self.create_test_integration()
        with self.assertRaises(UserError):
            self.env["ihub.run.wizard"].with_user(self.ihub_user).create(
                {
                    "integration_id": sub.super_id.id,
                    "date_from": "2026-01-02 00:00:00",
                    "date_to": "2026-01-01 00:00:00",
                }
            )

    def test_run_manually_without_period_runs_at_once(self):
        global_sub = self.as_manager("ihub.integration.test.global").create(
            {"name": "G", "company_id": False}
        )
        action = global_sub.super_id.with_user(self.ihub_user).action_run_manually()
        self.assertEqual(action["tag"], "ihub_run_queued")  # a notice linking to the runs
        self.run_due_jobs()
        self.assertIn("global run None", global_sub.log_ids.summary)

    def test_open_settings_opens_the_sub_record_form(self):
        sub = self.create_test_integration()
        action = sub.super_id.with_user(self.ihub_user).action_open_settings()
        self.assertEqual((action["res_model"], action["res_id"]), (sub._name, sub.id))

    def test_parent_and_children(self):
        parent = self.create_test_integration(name="Connector").super_id
        child = self.create_test_integration(name="Shop", parent_id=parent.id).super_id
        self.assertEqual(parent.child_ids, child)
        with self.assertRaises(ValidationError):
            parent.parent_id = child

    def test_image_defaults_to_type_icon_and_can_be_replaced(self):
        integration = self.create_test_integration().super_id
        self.assertEqual(integration.image, self.type_test.icon)
        custom = self.type_global.icon
        integration.image = custom
        self.assertEqual(integration.image, custom)
        self.assertNotEqual(integration.image, self.type_test.icon)
