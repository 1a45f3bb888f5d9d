"""Mistakes an integration author can make, caught or made harmless."""

from datetime import datetime

from odoo.exceptions import UserError

from odoo.addons.ihub.lib.contract import field_clashes, guard_methods
from odoo.addons.ihub.models.ihub_integration import CREATING_FROM_SUB

from .common import IHubCase


class TestContractLib(IHubCase):
    def test_fields_hiding_super_fields_or_reserved_names_are_found(self):
        self.assertEqual(
            field_clashes(
                ["id", "setting", "delay", "state", "credential_ids"],
                ["id", "name", "state"],
                allowed={"id"},
            ),
            ["credential_ids", "delay", "state"],
        )
        self.assertEqual(field_clashes(["setting"], ["name"]), [])

    def test_installed_sub_models_have_no_clash_and_guarded_contract_methods(self):
        Integration = self.env["ihub.integration"]
        for model_name in Integration.search([]).mapped("model_name"):
            with self.subTest(model=model_name):
                model = self.env[model_name]
                model._ihub_check_field_clashes()  # the check run when the registry loads
                self.assertTrue(getattr(type(model).run_from_to, "_ihub_guard", False))

    def test_guard_wraps_once_whatever_the_override(self):
        calls = []

        class Model:
            def run_from_to(self, _from, _to):
                calls.append(("run", _from, _to))
                return "ran"

            def _guard(self, method):
                calls.append(("guard", method))

        self.assertEqual(
            guard_methods(Model, {"run_from_to": "_guard", "hook": "_guard"}), ["run_from_to"]
        )
        self.assertEqual(guard_methods(Model, {"run_from_to": "_guard"}), [], "already wrapped")
        self.assertEqual(Model().run_from_to(1, 2), "ran")
        self.assertEqual(calls, [("guard", "run_from_to"), ("run", 1, 2)])

    def test_field_clash_check_names_the_field(self):
        model = self.env["ihub.integration.test"]
        fields_before = dict(model._fields)
        clashing = type(fields_before["setting"])()
        try:
            model._fields["delay"] = clashing
            with self.assertRaisesRegex(TypeError, r"ihub\.integration\.test .*delay"):
                model._ihub_check_field_clashes()
        finally:
            model._fields.pop("delay", None)


class TestAuthorTraps(IHubCase):
    def test_creation_flag_does_not_leak_into_what_the_sub_model_creates(self):
        sub = self.as_manager("ihub.integration.test").create(
            {"name": "Creates another", "create_companion": True}
        )
        companion = sub.companion_id
        self.assertTrue(companion)
        self.assertTrue(companion.sub_id, "the companion got its own sub-record")
        self.assertEqual(sub.super_id.sub_id, sub)
        self.assertFalse(sub.env.context.get(CREATING_FROM_SUB))

    def test_type_model_cannot_change_while_integrations_use_it(self):
        self.create_test_integration()
        with self.assertRaisesRegex(UserError, "cannot change"):
            self.type_test.with_user(self.manager).model_name = "ihub.integration.test.passive"

    def test_run_cancelled_by_stop_gets_an_end_date(self):
        integration = self.create_test_integration().super_id
        integration.action_start()
        self.env["ihub.integration"]._cron_run_scheduled(integration.id)
        (job,) = integration.job_ids
        integration.with_user(self.ihub_user).action_stop()
        self.assertEqual(job.state, "cancelled")
        self.assertTrue(job.ended_at)

    def test_retrying_a_scheduled_run_of_a_failed_integration_says_why_not(self):
        sub = self.create_test_integration(raise_permanent=True)
        integration = sub.super_id
        integration.action_start()
        self.env["ihub.integration"]._cron_run_scheduled(integration.id)
        self.run_due_jobs()
        (failed,) = integration.job_ids
        self.assertEqual(integration.state, "failed")
        with self.assertRaisesRegex(UserError, "is not active: start it again"):
            failed.with_user(self.ihub_user).action_retry()

    def test_a_queued_scheduled_run_of_a_stopped_integration_is_cancelled_with_an_event(self):
        integration = self.create_test_integration().super_id
        integration.state = "active"
        job = self.env["ihub.job"]._enqueue(integration, "scheduled", advances_watermark=True)
        integration.state = "failed"
        self.run_due_jobs()
        self.assertEqual(job.state, "cancelled")
        self.assertIn("Failed, not active", job.note)
        self.assertTrue(job.ended_at)
        warning = integration.log_ids.filtered(lambda log: log.level == "warning")
        self.assertIn("was not started", warning.summary)

    def test_manual_run_still_runs_while_stopped(self):
        integration = self.create_test_integration().super_id
        job = integration._run_manually(datetime(2026, 1, 1), datetime(2026, 1, 2))
        self.run_due_jobs()
        self.assertEqual(job.state, "done")
