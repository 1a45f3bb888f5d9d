"""READ COMMITTED on Odoo cursors without a statement of its own (no database)."""

from psycopg2.extensions import (
    ISOLATION_LEVEL_READ_COMMITTED,
    ISOLATION_LEVEL_REPEATABLE_READ,
    STATUS_IN_TRANSACTION,
    STATUS_READY,
)

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.isolation import begin_read_committed, end_read_committed


class FakeConnection:
    def __init__(self, status):
        self.status = status
        self.levels = []

    def set_isolation_level(self, level):
        self.levels.append(level)


class FakeCursor:
    def __init__(self, status):
        self.connection = FakeConnection(status)
        self.statements = []

    def execute(self, query):
        self.statements.append(query)


class TestIsolation(BaseCase):
    def test_between_transactions_the_next_one_begins_read_committed(self):
        cr = FakeCursor(STATUS_READY)
        begin_read_committed(cr)
        self.assertEqual(cr.connection.levels, [ISOLATION_LEVEL_READ_COMMITTED])
        self.assertEqual(cr.statements, [], "no round trip to PostgreSQL")
        end_read_committed(cr)
        self.assertEqual(
            cr.connection.levels, [ISOLATION_LEVEL_READ_COMMITTED, ISOLATION_LEVEL_REPEATABLE_READ]
        )

    def test_in_a_transaction_the_level_is_not_changed_under_it(self):
        # psycopg2 would end the open transaction to change the connection's level.
        cr = FakeCursor(STATUS_IN_TRANSACTION)
        begin_read_committed(cr)
        self.assertEqual(cr.connection.levels, [])
        self.assertEqual(cr.statements, ["SET TRANSACTION ISOLATION LEVEL READ COMMITTED"])
        end_read_committed(cr)
        self.assertEqual(cr.connection.levels, [])
