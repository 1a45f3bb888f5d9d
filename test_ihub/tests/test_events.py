import contextlib
import json
from unittest.mock import patch

from odoo.addons.ihub.lib import journal
from odoo.addons.ihub.lib.exceptions import IHubError

from .common import IHubCase
from .servers import RealTransactions


class TestEvents(IHubCase):
    def setUp(self):
        super().setUp()
        self.sub = self.create_test_integration(name="Events")
        self.integration = self.sub.super_id
        self.partner = self.env["res.partner"].create({"name": "Customer"})

    def test_event_from_any_model_with_related_record(self):
        log = self.partner.with_user(self.ihub_user).ihub_info(
            summary="Customer synced",
            details="all good",
            related=self.partner,
            integration=self.integration,
        )
        self.assertEqual(log.level, "info")
        self.assertEqual(log.summary, "Customer synced")
        self.assertEqual(log.details, "all good")
        self.assertEqual((log.res_model, log.res_id), ("res.partner", self.partner.id))
        self.assertEqual(log.related_record, self.partner)
        self.assertEqual(log.integration_id, self.integration)
        self.assertEqual(log.user_id, self.ihub_user)
        self.assertTrue(log.date)
        action = log.action_open_related_record()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", self.partner.id))

    def test_levels(self):
        self.assertEqual(
            self.partner.ihub_warning("w", integration=self.integration).level, "warning"
        )
        self.assertEqual(self.partner.ihub_error("e", integration=self.integration).level, "error")

    def test_sub_record_passed_as_integration_is_normalised_to_the_super(self):
        log = self.partner.ihub_info("x", integration=self.sub)
        self.assertEqual(log.integration_id, self.integration)
        self.assertEqual(
            self.partner.ihub_info("y", integration=self.integration.id).integration_id,
            self.integration,
        )

    def test_integration_defaults_to_self_then_to_the_running_integration(self):
        self.assertEqual(self.sub.ihub_info("from the sub").integration_id, self.integration)
        self.assertEqual(
            self.integration.ihub_info("from the super").integration_id, self.integration
        )
        running = self.partner.with_context(integration_id=self.integration.id)
        self.assertEqual(running.ihub_info("in a run").integration_id, self.integration)
        other = self.create_test_integration(name="Other").super_id
        self.assertEqual(
            running.ihub_info("explicit", integration=other).integration_id,
            other,
            "an explicit integration wins over the context",
        )
        self.assertFalse(self.partner.ihub_info("no integration").integration_id)

    def test_details_are_formatted(self):
        log = self.partner.ihub_info("d", details={"b": 1, "a": [1, 2]}, integration=self.sub)
        self.assertEqual(json.loads(log.details), {"a": [1, 2], "b": 1})
        self.assertIn('\n  "a": [', log.details, "pretty-printed, keys sorted")
        self.assertEqual(
            json.loads(self.partner.ihub_info("l", details=[1, "x"]).details), [1, "x"]
        )
        self.assertFalse(self.partner.ihub_info("none").details)
        try:
            raise ValueError("boom")
        except ValueError as error:
            details = self.partner.ihub_error("exc", details=error).details
        self.assertIn("Traceback", details)
        self.assertIn("ValueError: boom", details)

    def test_missing_summary_gets_a_readable_default(self):
        self.assertEqual(self.partner.ihub_warning().summary, "Warning")

    def test_both_raise_spellings_log_then_raise(self):
        with self.assertRaisesRegex(IHubError, "refused"):
            self.partner.ihub_error("Shop refused", integration=self.sub, raise_exception=True)
        with self.assertRaisesRegex(IHubError, "again"):
            self.partner.ihub_error("Shop refused again", integration=self.sub, **{"raise": True})
        self.env["ihub.log"]._restore_rolled_back_events()
        errors = self.env["ihub.log"].search(
            [("integration_id", "=", self.integration.id), ("level", "=", "error")]
        )
        self.assertEqual(errors.mapped("summary"), ["Shop refused again", "Shop refused"])
        self.assertIsInstance(
            self.partner.ihub_error("no raise", **{"raise": False}), type(self.env["ihub.log"])
        )
        with self.assertRaises(TypeError):
            self.partner.ihub_error("typo", raize=True)

    def test_wrong_integration_argument_is_a_clear_error(self):
        with self.assertRaises(TypeError):
            self.partner.ihub_info("x", integration=self.partner)

    def test_kanban_summary_shows_last_event_and_last_error(self):
        self.sub.ihub_error("first problem")
        self.sub.ihub_info("latest news")
        self.integration.invalidate_recordset()
        self.assertEqual(self.integration.log_count, 2)
        self.assertEqual(self.integration.last_log_summary, "latest news")
        self.assertEqual(self.integration.last_log_level, "info")
        self.assertTrue(self.integration.last_error_date)


class TestEventsSurviveRollback(RealTransactions):
    """Real transactions, committed and rolled back, checked from another cursor."""

    def setUp(self):
        super().setUp()
        with self.transaction() as env:
            self.integration_id = (
                env["ihub.integration.test"].create({"name": "Committed"}).super_id.id
            )
        self.addCleanup(self._drop_committed_integration)

    def _drop_committed_integration(self):
        with self.transaction() as env:
            env["ihub.integration"].browse(self.integration_id).unlink()

    def summaries(self):
        with self.transaction() as env:
            return sorted(
                env["ihub.log"]
                .search([("integration_id", "=", self.integration_id)])
                .mapped("summary")
            )

    def test_event_outlives_a_rolled_back_transaction(self):
        with self.transaction() as env:
            env["res.partner"].ihub_info("kept", integration=self.integration_id)
            env["res.partner"].create({"name": "thrown away"})
            env.cr.rollback()
        self.assertEqual(self.summaries(), ["kept"])

    def test_raised_error_outlives_the_failed_transaction(self):
        with self.assertRaises(IHubError), self.transaction() as env:
            env["res.partner"].ihub_info("before", integration=self.integration_id)
            env["res.partner"].ihub_error(
                "fatal", integration=self.integration_id, raise_exception=True
            )
        self.assertEqual(self.summaries(), ["before", "fatal"])

    def test_event_outlives_a_rolled_back_savepoint(self):
        for flush in (True, False):
            with self.transaction() as env:
                try:
                    with env.cr.savepoint(flush=flush):
                        env["res.partner"].ihub_warning(
                            f"in savepoint {flush}", integration=self.integration_id
                        )
                        raise ValueError("record failed")
                except ValueError:
                    pass
        self.assertEqual(self.summaries(), ["in savepoint False", "in savepoint True"])

    def test_committed_events_are_written_once(self):
        with self.transaction() as env:
            env["res.partner"].ihub_info("once", integration=self.integration_id)
        self.assertEqual(self.summaries(), ["once"])

    def test_event_of_an_integration_that_never_existed_is_not_written_back(self):
        with self.transaction() as env:
            sub = env["ihub.integration.test"].create({"name": "Never committed"})
            log_id = sub.ihub_info("orphan").id
            env.cr.rollback()
        with self.transaction() as env:
            self.assertFalse(env["ihub.log"].browse(log_id).exists())

    def test_events_deleted_in_their_transaction_stay_deleted(self):
        with self.transaction() as env:
            sub = env["ihub.integration.test"].create({"name": "Short-lived"})
            by_cascade = sub.ihub_info("deleted with its integration").id
            by_orm = env["res.partner"].ihub_info("deleted", integration=self.integration_id)
            by_orm_id = by_orm.id
            by_orm.unlink()
            sub.unlink()
        with self.transaction() as env:
            self.assertFalse(env["ihub.log"].browse([by_cascade, by_orm_id]).exists())
        self.assertEqual(self.summaries(), [])

    def test_a_commit_with_nothing_after_the_check_opens_no_other_cursor(self):
        opened = []
        real_replay = journal.EventJournal.__init__

        def counting_init(journal_self, restore, replay):
            def replay_spy(rows, only_missing):
                opened.append(only_missing)
                return replay(rows, only_missing)

            real_replay(journal_self, restore, replay_spy)

        with patch.object(journal.EventJournal, "__init__", counting_init):
            with self.transaction() as env:
                env["res.partner"].ihub_info("cheap", integration=self.integration_id)
                env.cr.flush()
            self.assertEqual(opened, [], "no second cursor after a plain commit")
            with self.transaction() as env:
                env["res.partner"].ihub_info("after a savepoint", integration=self.integration_id)
                with contextlib.suppress(ValueError), env.cr.savepoint():
                    env["res.partner"].ihub_info("undone", integration=self.integration_id)
                    raise ValueError
            self.assertEqual(opened, [True], "checked again: a savepoint rolled back")
        self.assertEqual(self.summaries(), ["after a savepoint", "cheap", "undone"])
