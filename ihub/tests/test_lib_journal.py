"""The event journal's bookkeeping, with a stand-in cursor (no database)."""

from odoo.tests import BaseCase
from odoo.tools.misc import Callbacks

from odoo.addons.ihub.lib import journal


class FakeCursor:
    """Just the callback queues of an Odoo cursor, run the way Cursor runs them."""

    def __init__(self):
        self.precommit = Callbacks()
        self.postcommit = Callbacks()
        self.postrollback = Callbacks()

    def flush(self):
        self.precommit.run()

    def clear(self):
        # What a flushing savepoint does when it rolls back.
        self.precommit.clear()

    def commit(self):
        self.flush()
        self.clear()
        self.postrollback.clear()
        self.postcommit.run()

    def rollback(self):
        self.clear()
        self.postcommit.clear()
        self.postrollback.run()


class TestJournal(BaseCase):
    def setUp(self):
        super().setUp()
        self.cr = FakeCursor()
        self.calls = []

    def remember(self, row_id):
        journal.remember(
            self.cr,
            row_id,
            {"id": row_id},
            restore=lambda cr, rows: self.calls.append(("restore", [r["id"] for r in rows])),
            replay=lambda rows, only_missing: self.calls.append(
                ("replay", [r["id"] for r in rows], only_missing)
            ),
        )

    def test_rollback_replays_every_event(self):
        self.remember(1)
        self.remember(2)
        self.cr.rollback()
        self.assertEqual(self.calls, [("replay", [1, 2], False)])

    def test_commit_restores_before_and_checks_after_committing(self):
        self.remember(1)
        self.cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self.calls, [("restore", [1]), ("replay", [1], True)])

    def test_savepoint_rolled_back_after_a_flush_is_caught_after_commit(self):
        self.remember(1)
        self.cr.flush()  # a flushing savepoint opens: pre-commit hooks run
        self.cr.clear()  # ... and is rolled back
        self.cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self.calls, [("restore", [1]), ("replay", [1], True)])

    def test_commit_after_a_flushing_savepoint_rollback_checks_after_committing(self):
        self.remember(1)
        self.cr.clear()
        self.cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self.calls, [("replay", [1], True)])

    def test_a_new_transaction_starts_empty(self):
        self.remember(1)
        self.cr.commit()  # pylint: disable=invalid-commit
        self.calls.clear()
        self.cr.rollback()
        self.assertEqual(self.calls, [])
        self.remember(2)
        self.cr.rollback()
        self.assertEqual(self.calls, [("replay", [2], False)])

    def test_forget(self):
        self.remember(1)
        journal.forget(self.cr)
        self.cr.rollback()
        self.assertEqual(self.calls, [])

    def test_commit_with_no_statement_after_the_check_is_not_checked_again(self):
        self.cr.sql_log_count = 0
        self.remember(1)
        self.cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self.calls, [("restore", [1])])

    def test_commit_with_statements_after_the_check_is_checked_again(self):
        self.cr.sql_log_count = 0
        self.remember(1)
        self.cr.flush()  # the check runs here (a flushing savepoint opens) ...
        self.cr.sql_log_count += 1  # ... then e.g. ROLLBACK TO SAVEPOINT
        self.cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self.calls, [("restore", [1]), ("replay", [1], True)])

    def test_discarded_events_are_not_written_back(self):
        self.remember(1)
        self.remember(2)
        journal.discard(self.cr, [1])
        self.cr.rollback()
        self.assertEqual(self.calls, [("replay", [2], False)])

    def test_restore_now_uses_the_transaction_journal(self):
        self.remember(1)
        self.cr.clear()
        journal.restore_now(self.cr)
        self.assertEqual(self.calls, [("restore", [1])])
