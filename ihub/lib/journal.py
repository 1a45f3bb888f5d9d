"""Keep iHub events when the transaction that wrote them is rolled back.

An event is written in the caller's transaction, so it is cheap, visible at once and consistent
with the records it talks about. The journal remembers the rows written in the transaction and
hooks the cursor's callbacks:

* full rollback (an exception in a cron job or a request): every remembered row is written again
  through a fresh cursor (``replay``);
* commit: rows that a rolled-back savepoint removed are written again before the commit
  (``restore``, in the same transaction). A flushing savepoint rolled back after that check
  (which also runs when any flushing savepoint opens) could still take events with it, so they
  are checked once more after the commit (``replay`` of the missing ones) — unless the cursor
  executed nothing since the pre-commit check, which is the common case and costs nothing.

Rows deleted on purpose are not brought back: ``discard`` forgets the events the ORM deletes,
and the writers skip an event whose integration or run no longer exists (deleted with them).

The cursor is only used through its ``precommit``/``postcommit``/``postrollback`` callback
queues, so this module can be tested with a stand-in cursor.
"""

KEY = "ihub.event_journal"


class EventJournal:
    """The events one transaction has written, by id."""

    def __init__(self, restore, replay):
        self.rows = {}
        self.restore = restore
        self.replay = replay

        # The cursor's statement count right after the last pre-commit check.
        self.checked_at = None

    def add(self, row_id, row):
        self.rows[row_id] = row


def remember(cr, row_id, row, restore, replay):
    """Remember event ``row`` (a dict of column values) written as ``row_id`` in ``cr``.

    ``restore(cr, rows)`` writes back, in ``cr``'s transaction, those of ``rows`` that are gone.
    ``replay(rows)`` writes ``rows`` through another transaction after a rollback.
    """
    journal = cr.postrollback.data.get(KEY)
    if journal is None:
        journal = EventJournal(restore, replay)
        cr.postrollback.data[KEY] = journal
        cr.postcommit.data[KEY] = journal
        cr.postrollback.add(lambda: _after_rollback(cr))
        cr.postcommit.add(lambda: _after_commit(cr))
    if KEY not in cr.precommit.data:
        cr.precommit.data[KEY] = journal
        cr.precommit.add(lambda: _before_commit(cr))
    journal.add(row_id, row)


def restore_now(cr):
    """Write back at once the events of this transaction that a rolled-back savepoint removed.

    They come back by themselves when the transaction commits; code (typically a test) that
    reads them in the same transaction after catching an exception calls this first.
    """
    journal = cr.postrollback.data.get(KEY)
    if journal is not None and journal.rows:
        journal.restore(cr, list(journal.rows.values()))


def discard(cr, row_ids):
    """Forget events ``row_ids`` of this transaction: they were deleted on purpose."""
    journal = cr.postrollback.data.get(KEY)
    if journal is not None:
        for row_id in row_ids:
            journal.rows.pop(row_id, None)


def forget(cr):
    """Drop what ``cr`` remembers, e.g. when a test throws its whole transaction away."""
    for queue in (cr.precommit, cr.postcommit, cr.postrollback):
        queue.data.pop(KEY, None)


def _statement_count(cr):
    return getattr(cr, "sql_log_count", None)


def _before_commit(cr):
    journal = cr.precommit.data.get(KEY)
    if journal is not None and journal.rows:
        journal.restore(cr, list(journal.rows.values()))
        journal.checked_at = _statement_count(cr)


def _after_commit(cr):
    journal = cr.postcommit.data.get(KEY)
    if journal is None or not journal.rows:
        return
    count = _statement_count(cr)
    if count is not None and count == journal.checked_at:
        return  # nothing ran between the pre-commit check and the commit
    journal.replay(list(journal.rows.values()), only_missing=True)


def _after_rollback(cr):
    journal = cr.postrollback.data.get(KEY)
    if journal is not None and journal.rows:
        journal.replay(list(journal.rows.values()), only_missing=False)
