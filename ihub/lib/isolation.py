"""READ COMMITTED transactions on Odoo's cursors, which Odoo opens REPEATABLE READ.

Claims and webhook intake lock rows that other workers change all the time: there each
statement must see what others committed. ``SET TRANSACTION ISOLATION LEVEL`` costs a round
trip to PostgreSQL per transaction; psycopg2 can instead open the next transaction with
``BEGIN ISOLATION LEVEL READ COMMITTED`` when the level is set between transactions.
"""

from psycopg2.extensions import (
    ISOLATION_LEVEL_READ_COMMITTED,
    ISOLATION_LEVEL_REPEATABLE_READ,
    STATUS_READY,
)


def begin_read_committed(cr):
    """Make the current (or else the next) transaction of ``cr`` READ COMMITTED."""
    connection = cr.connection
    if connection.status == STATUS_READY:
        connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
    else:
        # A transaction is open already: changing the connection's level would end it.
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")


def end_read_committed(cr):
    """After a commit: the next transactions of ``cr`` are Odoo's REPEATABLE READ again."""
    connection = cr.connection
    if connection.status == STATUS_READY:
        connection.set_isolation_level(ISOLATION_LEVEL_REPEATABLE_READ)
