import logging
import math
import os
import socket
import threading
import time
import traceback
from datetime import timedelta

import psycopg2

from odoo import SUPERUSER_ID, _, api, fields, models, sql_db
from odoo.exceptions import UserError
from odoo.tools import config

from odoo.addons.ihub.lib.exceptions import IHubPermanentError
from odoo.addons.ihub.lib.isolation import begin_read_committed, end_read_committed
from odoo.addons.ihub.lib.liveness import (
    RUN_LOCK_SPACE,
    RunLock,
    delayed_calls,
    lock_session,
    start_watch,
    worker_is_gone_sql,
)
from odoo.addons.ihub.lib.progress import RunProgress, progress_by_job, running, slice_deadline
from odoo.addons.ihub.lib.schedule import retry_delay, runner_budget

_logger = logging.getLogger(__name__)

TRIGGERS = [
    ("scheduled", "Scheduled"),
    ("manual", "Manual"),
    ("retry", "Retry"),
    ("fanout", "From Parent Run"),
    ("webhook", "Webhook"),
    ("api", "API"),
]
# Runs a person (or a program acting for one) asked for: they name who asked.
REQUESTED_TRIGGERS = ("manual", "api")
JOB_STATES = [
    ("pending", "Pending"),
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
# Lanes: work of one integration that must not wait behind its runs, nor run twice at a time.
# Each lane has its own lock per integration (a "main" run and a "webhook" batch of the same
# integration run side by side; two webhook batches never do). Jobs of another lane than
# "main" process what their model queued (LANE_MODELS: its ``_ihub_process_lane(job, sub)``)
# instead of calling ``run_from_to``; one job handles a whole batch.
LANES = [
    ("main", "Runs"),
    ("webhook", "Incoming Webhooks"),
    ("delivery", "Outgoing Webhooks"),
]
LANE_MODELS = {"webhook": "ihub.webhook.event", "delivery": "ihub.webhook.delivery"}
RUNNER_CODE = "model._cron_run_due_jobs()"
# System parameter: seconds a runner cron starts runs (default: from the cron time limit).
BUDGET_PARAM = "ihub.runner_time_budget"
# A run lasting longer than this is watched from outside its worker (_watch_if_long).
WATCH_AFTER_SECONDS = 10


class _NotWatched:
    """What ``_watch_if_long`` returns when nothing is watched."""

    def cancel(self):
        pass


_NOT_WATCHED = _NotWatched()


class _TimeSliceEnded(Exception):
    """Raised by ``commit_progress`` when the worker's time budget is spent (see _run)."""


class IHubJob(models.Model):
    """One run of an integration: why it ran, over which period, how it ended.

    Jobs are created by the schedule, by "Run Manually", by retries and by parent runs, queued
    as *pending*, and executed by Odoo's scheduler through the iHub job runner crons. At most
    one job of an integration runs at a time, across all workers and servers: claiming a job
    locks its integration's row (``_claim_next``). A running job's worker holds the job's
    advisory lock (``lib/liveness.py``); a running job whose lock is free lost its worker.
    """

    _name = "ihub.job"
    _description = "Integration Run"
    _order = "id desc"
    # Name searches (the "Run" field of the Events search, many2one autocompletes) look for
    # the integration's name; a job number is matched too (_search_display_name).
    _rec_names_search = ["integration_id"]

    # Indexed by ihub_job_integration_id_desc_index (init), which also serves the latest runs.
    integration_id = fields.Many2one(
        "ihub.integration", required=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True)
    trigger = fields.Selection(TRIGGERS, required=True, readonly=True, index=True)
    lane = fields.Selection(
        LANES,
        default="main",
        required=True,
        readonly=True,
        help="Runs: the integration's own work, one at a time. Webhook lanes process received "
        "events or outgoing deliveries in batches, beside the runs.",
    )
    state = fields.Selection(
        JOB_STATES,
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    date_from = fields.Datetime(string="Period From", readonly=True)
    date_to = fields.Datetime(string="Period To", readonly=True)
    advances_watermark = fields.Boolean(
        string="Moves the Schedule",
        readonly=True,
        help="A scheduled run (or its retry): when it succeeds, the next scheduled run starts "
        "where it stopped.",
    )
    dry_run = fields.Boolean(
        readonly=True,
        help="A dry run reports what it would create, update and skip, and writes nothing.",
    )
    eta = fields.Datetime(string="Not Before", readonly=True, index=True)
    priority = fields.Integer(default=10, readonly=True)
    queued_at = fields.Datetime(default=fields.Datetime.now, readonly=True)
    started_at = fields.Datetime(readonly=True)
    ended_at = fields.Datetime(readonly=True, index=True)
    heartbeat_at = fields.Datetime(
        string="Last Progress", readonly=True, help="When the run last committed its progress."
    )
    duration = fields.Float(
        compute="_compute_duration",
        store=True,
        aggregator="avg",
        help="Seconds from start to end.",
    )
    attempt = fields.Integer(default=1, readonly=True)
    max_attempts = fields.Integer(readonly=True)
    processed_count = fields.Integer(string="Processed", readonly=True)
    succeeded_count = fields.Integer(string="Succeeded", readonly=True)
    failed_count = fields.Integer(string="Failed Items", readonly=True)
    checkpoint = fields.Char(
        readonly=True, help="Where the run got to; a retry of this run resumes from there."
    )
    error_message = fields.Text(readonly=True)
    error_summary = fields.Char(
        compute="_compute_error_summary",
        string="Error",
        help="The first line of the error: lists stay one line high on any screen.",
    )
    error_traceback = fields.Text(readonly=True, groups="ihub.group_ihub_manager")
    note = fields.Char(readonly=True)
    worker = fields.Char(readonly=True, help="Server and process that ran the job.")
    user_id = fields.Many2one("res.users", string="Requested By", readonly=True)
    parent_job_id = fields.Many2one("ihub.job", readonly=True, index=True, ondelete="set null")
    child_job_ids = fields.One2many("ihub.job", "parent_job_id", string="Follow-up Runs")
    log_ids = fields.One2many("ihub.log", "job_id", string="Events")
    http_exchange_ids = fields.One2many("ihub.http.exchange", "job_id", string="HTTP Requests")

    def init(self):
        # Crash detection used to compare heartbeat clocks in this table; it is no longer used.
        self.env.cr.execute("DROP TABLE IF EXISTS ihub_job_heartbeat")
        # The integration form and dashboard read an integration's latest runs.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS ihub_job_integration_id_desc_index
                ON ihub_job (integration_id, id DESC)
            """
        )
        # The claim walks the pending runs in its order and stops at the first it can take;
        # the check that an integration is not running looks at running runs only. Both stay
        # as fast with a year of history as with none: the whole-table indexes on state and
        # integration_id would also walk the entries of ended runs (and of updated rows that
        # VACUUM has not removed yet).
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS ihub_job_pending_claim_index
                ON ihub_job (priority, eta NULLS FIRST, id) WHERE state = 'pending'
            """
        )
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS ihub_job_running_integration_index
                ON ihub_job (integration_id) WHERE state = 'running'
            """
        )

    @api.depends("started_at", "ended_at")
    def _compute_duration(self):
        for job in self:
            if job.started_at and job.ended_at:
                job.duration = (job.ended_at - job.started_at).total_seconds()
            else:
                job.duration = 0.0

    @api.depends("error_message")
    def _compute_error_summary(self):
        for job in self:
            first_line = (job.error_message or "").strip().split("\n", 1)[0]
            job.error_summary = first_line[:120] + ("…" if len(first_line) > 120 else "")

    @api.depends("integration_id", "trigger")
    def _compute_display_name(self):
        labels = dict(TRIGGERS)
        for job in self:
            job.display_name = f"{job.integration_id.name} – {labels.get(job.trigger)} #{job.id}"

    @api.model
    def _search_display_name(self, operator, value):
        domain = super()._search_display_name(operator, value)
        number = value.strip().lstrip("#") if isinstance(value, str) else ""
        if operator in ("ilike", "=", "=ilike") and number.isdigit() and len(number) < 10:
            domain = ["|", ("id", "=", int(number)), *domain]
        return domain

    # ---- Queueing

    @api.model
    def _enqueue(self, integration, trigger, **values):
        """Queue a run of ``integration`` and wake the job runner."""
        job = self.sudo().create(
            {
                "integration_id": integration.id,
                "trigger": trigger,
                # Someone asked for it; the schedule, retries and parent runs ask for themselves.
                "user_id": self.env.uid if trigger in REQUESTED_TRIGGERS else False,
                "max_attempts": integration.max_attempts,
                **values,
            }
        )
        self._wake_runner(job.eta)
        return job

    @api.model
    def _wake_runner(self, at=None):
        """Have the job runner crons run now (or at ``at``).

        One cron trigger per runner for all the jobs a transaction queues for now, created once
        the transaction committed (a rolled-back transaction queued nothing), instead of one
        per job.
        """
        if at and at > fields.Datetime.now():
            for runner in self._runner_crons():
                runner._trigger(at)
            return
        postcommit = self.env.cr.postcommit
        if not postcommit.data.get("ihub.wake_runner"):
            postcommit.data["ihub.wake_runner"] = True
            registry = self.env.registry

            @postcommit.add
            def wake():
                with registry.cursor() as cr:
                    runners = api.Environment(cr, SUPERUSER_ID, {})["ihub.job"]._runner_crons()
                    if not runners:
                        return
                    now = fields.Datetime.now()
                    runners.env["ir.cron.trigger"].create(
                        [{"cron_id": runner.id, "call_at": now} for runner in runners]
                    )
                    # One NOTIFY wakes every cron worker, and each costs a new connection to
                    # the 'postgres' database (Odoo keeps none in its pool): ir.cron._trigger
                    # would send one per runner.
                    cr.postcommit.add(runners[:1]._notifydb)

    @api.model
    def _runner_crons(self):
        return (
            self.env["ir.cron"]
            .sudo()
            .search([("model_id.model", "=", self._name), ("code", "=", RUNNER_CODE)])
        )

    def _cancel(self, note):
        """Cancel these runs (pending ones; one place for every reason to cancel)."""
        self.sudo().write({"state": "cancelled", "ended_at": fields.Datetime.now(), "note": note})

    # ---- Claiming: one running job per integration, whatever the number of workers

    @api.model
    def _claim_next(self, integrations=None):
        """Mark the next due pending job running and return it (empty when there is none).

        The caller commits. Jobs whose integration is running, or being claimed by another
        worker right now (its row is locked), are passed over. The returned job's run lock is
        held (``_run`` releases it).
        """
        cr = self.env.cr
        self._begin_read_committed()
        # Lanes passed over, as "integration_id:lane" (see LANES).
        passed_over, not_startable = ["-"], [0]
        while True:
            cr.execute(
                f"""
                SELECT job.id, job.integration_id, job.lane
                  FROM ihub_job job
                 WHERE job.state = 'pending'
                   AND (job.eta IS NULL OR job.eta <= %(now)s)
                   AND (job.integration_id::text || ':' || job.lane) != ALL(%(passed_over)s)
                   AND job.id != ALL(%(not_startable)s)
                   {"AND job.integration_id = ANY(%(only)s)" if integrations is not None else ""}
              ORDER BY job.priority, job.eta NULLS FIRST, job.id
                 LIMIT 1
                   FOR UPDATE OF job SKIP LOCKED
                """,
                {
                    "passed_over": passed_over,
                    "not_startable": not_startable,
                    "only": integrations.ids if integrations else [],
                    "now": fields.Datetime.now(),
                },
            )
            row = cr.fetchone()
            if not row:
                return self.browse()
            job = self.browse(row[0])
            if not job._lock_integration(row[1], row[2]):
                passed_over.append(f"{row[1]}:{row[2]}")
                continue
            started = job._start()
            if started:
                if started.lane != "main":
                    started._absorb_spare_lane_jobs()
                return started
            not_startable.append(job.id)

    def _lock_integration(self, integration_id, lane="main"):
        """Lock this job's integration (in its lane) for the claim; False if it is busy.

        The main lane locks the integration's row; another lane takes a transaction advisory
        lock keyed by lane and integration, so that it never waits for (nor blocks) a run.
        """
        cr = self.env.cr
        if lane == "main":
            cr.execute(
                "SELECT id FROM ihub_integration WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
                [integration_id],
            )
            locked = bool(cr.fetchone())
        else:
            cr.execute(
                "SELECT pg_try_advisory_xact_lock(hashtext(%s), %s)",
                [f"ihub.lane.{lane}", integration_id],
            )
            locked = cr.fetchone()[0]
        if not locked:
            return False
        # A new statement, so a new snapshot (READ COMMITTED): it sees every claim committed
        # before we got the lock.
        cr.execute(
            """
            SELECT 1 FROM ihub_job
             WHERE integration_id = %s AND state = 'running' AND lane = %s
             LIMIT 1
            """,
            [integration_id, lane],
        )
        return not cr.fetchone()

    @api.model
    def _ihub_ensure_lane_job(self, integration_id, lane, eta=None):
        """A pending job of ``lane`` for the integration, due by ``eta`` (now when None);
        queued (and the runner woken) only when there is none: one job per batch of work."""
        return self._ihub_lane_job(integration_id, lane, eta)[0]

    @api.model
    def _ihub_lane_job(self, integration_id, lane, eta=None):
        """``(job, queued)``: the pending job of ``lane`` due by ``eta``, and whether this
        transaction queued it.

        No lock: callers racing in the moment after a claim may each queue one. A lock made
        every push wait for the one queuing, and for anything that delayed it (a garbage
        collection of its worker); the claim of a lane job takes in the spare ones instead
        (``_absorb_spare_lane_jobs``), and a spare claimed later finds nothing and leaves no
        run. The caller's transaction must be READ COMMITTED (or a test's) for the look to
        see jobs other transactions just committed.
        """
        cr = self.env.cr
        cr.execute(
            """
            SELECT id FROM ihub_job
             WHERE integration_id = %s AND lane = %s AND state = 'pending'
               AND (eta IS NULL OR eta <= %s)
             LIMIT 1
            """,
            [integration_id, lane, eta or fields.Datetime.now()],
        )
        row = cr.fetchone()
        if row:
            return self.browse(row[0]), False
        integration = self.env["ihub.integration"].sudo().browse(integration_id)
        job = self.with_user(SUPERUSER_ID)._enqueue(
            integration, "webhook", lane=lane, eta=eta or False, max_attempts=1
        )
        return job, True

    def _absorb_spare_lane_jobs(self):
        """Delete the other due pending jobs of this claimed lane job's integration and lane.

        They are visible to the claim, so the events or deliveries they were queued for
        were committed before it: this run, which looks after its claim commits, handles
        them. Jobs due later, and a paused run (it has started), stay.
        """
        self.ensure_one()
        self.env.cr.execute(
            """
            SELECT id FROM ihub_job
             WHERE integration_id = %s AND lane = %s AND state = 'pending' AND id != %s
               AND (eta IS NULL OR eta <= %s)
               AND started_at IS NULL AND checkpoint IS NULL
               FOR UPDATE SKIP LOCKED
            """,
            [self.integration_id.id, self.lane, self.id, fields.Datetime.now()],
        )
        spare = self.browse([row[0] for row in self.env.cr.fetchall()])
        if spare:
            spare.sudo().unlink()

    def _start(self):
        now = fields.Datetime.now()
        values = {
            "state": "running",
            "started_at": now,
            "ended_at": False,
            "worker": f"{socket.gethostname()}:{os.getpid()}",
        }
        integration = self.integration_id
        if self.advances_watermark and integration.state != "active":
            note = _(
                "Cancelled: the integration is %(state)s, not active.",
                state=dict(integration._fields["state"].selection)[integration.state],
            )
            self._cancel(note)
            integration._ihub_event(
                "warning",
                _("A scheduled run was not started: %(note)s", note=note),
                None,
                self,
                integration,
                job=self,
            )
            return self.browse()
        resume_from = self._resume_checkpoint()
        # A scheduled run (or its retry) covers up to now; one resuming from a checkpoint keeps
        # the period its checkpoint belongs to.
        if self.advances_watermark and not (resume_from and self.date_to):
            window = integration._scheduled_window(now)
            if window is None:
                self._cancel(_("Skipped: the period to cover is empty."))
                return self.browse()
            values["date_from"], values["date_to"] = window
        self.write(values)
        self.env.flush_all()
        lock = RunLock(_lock_session(self.env.cr.dbname).cursor, self.id)
        if not lock.acquire():
            # Only a recoverer looking at this id right now could hold it: try again later.
            self.write({"state": "pending", "started_at": False, "worker": False})
            return self.browse()
        progress = RunProgress(integration_id=integration.id, checkpoint=resume_from, lock=lock)
        if self.checkpoint:
            # A paused run goes on: its committed counts go on too.
            progress.add(self.processed_count, self.succeeded_count, self.failed_count)
            progress.committed = progress.values()
        progress_by_job()[self.id] = progress
        return self

    def _resume_checkpoint(self):
        """Where this run resumes: its own checkpoint (it was paused), else its parent's."""
        if self.checkpoint:
            return self.checkpoint
        if self.trigger == "retry" and self.parent_job_id.checkpoint:
            return self.parent_job_id.checkpoint
        return None

    # ---- Running

    def _run(self):
        """Execute this claimed (running) job and record how it ended, in a committed state.

        Whatever fails — the integration's code, recording the outcome, the final commit —
        the job ends failed (and retried per policy) or done, never left running.
        """
        self.ensure_one()
        job = self.sudo()
        progress = progress_by_job().get(job.id) or RunProgress(
            integration_id=job.integration_id.id, checkpoint=job._resume_checkpoint()
        )
        progress_by_job()[job.id] = progress
        watch = job._watch_if_long()
        try:
            outcome = job._execute(progress)
            try:
                job._record(outcome, progress)
                job._commit()
            except Exception as bookkeeping_error:
                _logger.warning(
                    "iHub job %s: recording its end failed; recording it as failed",
                    job.id,
                    exc_info=True,
                )
                job._rollback_to_last_commit(progress)
                job._record_failure(bookkeeping_error, traceback.format_exc(), minimal=True)
                job._commit()
        finally:
            watch.cancel()
            progress_by_job().pop(job.id, None)
            if progress.lock:
                progress.lock.release()
        return job

    def _watch_if_long(self):
        """Once this run has lasted a while, have a process outside this worker watch it.

        Its worker may then be killed (a prefork time limit, an out-of-memory kill); the watch
        wakes the runner at that moment (``lib/run_watch.py``). Short runs never pay for it:
        they cancel the delayed call (one thread per process for all runs) before it comes.
        """
        if not self._can_commit():
            return _NOT_WATCHED  # tests: runs are nested in the test's transaction
        time_limit = _cron_time_limit()
        delay = min(WATCH_AFTER_SECONDS, time_limit / 2 if time_limit else WATCH_AFTER_SECONDS)
        dbname, run_id = self.env.cr.dbname, self.id

        def watch():
            try:
                start_watch(
                    {
                        "connect": sql_db.connection_info_for(dbname)[1],
                        "postgres": sql_db.connection_info_for("postgres")[1],
                        "database": dbname,
                        "run_id": run_id,
                        "space": RUN_LOCK_SPACE,
                        "notify_function": os.getenv("ODOO_NOTIFY_FUNCTION", "pg_notify"),
                    }
                )
            except Exception:
                _logger.warning("iHub could not start the watch of run %s", run_id)

        return delayed_calls.call_later(delay, watch)

    def _execute(self, progress):
        """Run the integration's code; return ("done"|"paused"|error, traceback).

        A failure undoes what the run did since its last commit: a rollback does it in
        production, where everything since the claim's commit is the run's own work; in tests,
        whose transaction must go on, a savepoint does.
        """
        progress.dry_run = self.dry_run
        # A dry run's work is undone at its end, whatever the integration's code wrote.
        progress.savepoint = self.env.cr.savepoint() if self.dry_run else self._run_savepoint()
        progress.executing = True
        try:
            sub = self.integration_id._run_sub(self)
            progress.sub = (sub._name, sub.id)
            if self.lane == "main":
                sub.run_from_to(self.date_from or None, self.date_to or None)
            else:
                self.env[LANE_MODELS[self.lane]].sudo()._ihub_process_lane(self, sub)
            if progress.savepoint:
                progress.savepoint.close(rollback=self.dry_run)
            if self.dry_run:
                self.env.invalidate_all()
                self.env["ihub.log"]._restore_rolled_back_events()
            return ("done", None)
        except _TimeSliceEnded:
            return ("paused", None)
        except Exception as error:
            error_traceback = traceback.format_exc()
            self._rollback_to_last_commit(progress)
            self.env["ihub.log"]._restore_rolled_back_events()
            return (error, error_traceback)
        finally:
            progress.executing = False

    def _run_savepoint(self):
        return None if self._can_commit() else self.env.cr.savepoint()

    def _record(self, outcome, progress):
        self._flush_exchanges(progress)
        status, error_traceback = outcome
        if status == "done" and self.lane != "main" and not progress.processed:
            # A batch that found nothing to do: pushes racing with it queue one more job to be
            # sure none is missed, and an empty one is no run worth listing.
            self.sudo().unlink()
        elif status == "done":
            self._record_success(progress)
        elif status == "paused":
            self._record_pause(progress)
        else:
            self._record_failure(status, error_traceback)

    def _rollback_to_last_commit(self, progress):
        """Undo everything since the run's last commit (in tests: since the run started)."""
        if self._can_commit():
            self.env.cr.rollback()
        elif progress.savepoint and not progress.savepoint.closed:
            progress.savepoint.close(rollback=True)
        self.env.invalidate_all()
        progress.processed, progress.succeeded, progress.failed = (
            progress.committed.get("processed_count", 0),
            progress.committed.get("succeeded_count", 0),
            progress.committed.get("failed_count", 0),
        )

    def _record_success(self, progress):
        self.write({"state": "done", "ended_at": fields.Datetime.now(), **progress.values()})
        if self.advances_watermark:
            self.integration_id._move_watermark(self.date_to)
        if not self.dry_run:
            self.integration_id._close_failure_notices()

    def _record_pause(self, progress):
        """The worker's time is up: the job goes back to the queue and resumes from its
        checkpoint in the next runner cron (see commit_progress)."""
        self.write(
            {
                "state": "pending",
                "eta": False,
                **progress.committed,
                # Not the checkpoint itself: the integration's own text (a cursor, a UTC
                # stamp), which people cannot read.
                "note": _(
                    "Paused: the worker's time was up. It goes on from its last saved "
                    "progress (%(count)s processed).",
                    count=progress.committed.get("processed_count", 0),
                ),
            }
        )
        self._wake_runner()

    def _record_failure(self, error, error_traceback, minimal=False):
        """Record that the run failed and queue its retry (or fail the integration).

        The job's end, the retry and the integration's state come first; telling people (the
        chatter message, the to-do) comes last and cannot undo them. ``minimal`` skips the
        run's uncommitted counts (they were rolled back).
        """
        progress = progress_by_job().get(self.id)
        message = str(error) or type(error).__name__
        # An error the integration raised on purpose (a UserError: "the shop refused the
        # order") is its message; a traceback there would only show server paths.
        if isinstance(error, UserError):
            error_traceback = False
        self.write(
            {
                "state": "failed",
                "ended_at": fields.Datetime.now(),
                "error_message": message,
                "error_traceback": error_traceback,
                # Only what was committed counts: the rest was rolled back. A job recovered
                # from a dead worker has no progress here: keep what it committed.
                **(progress.committed if progress else {}),
            }
        )
        # One event per failure: none when the integration's code logged this very error
        # (ihub_error(..., raise_exception=True)). The traceback stays on the run, for managers.
        if not getattr(error, "ihub_logged", False):
            self.integration_id._ihub_event(
                "error",
                _("Run failed: %(error)s", error=message),
                None,
                self,
                self.integration_id,
                job=self,
            )
        if not self.advances_watermark:
            return
        permanent = isinstance(error, IHubPermanentError)
        if not permanent and self.attempt < self.max_attempts:
            self._enqueue_retry()
        else:
            if permanent or self.attempt == 1:
                reason = _("its scheduled run failed: %(error)s", error=message)
            else:
                reason = _(
                    "its scheduled run failed %(attempts)s times in a row; the last error "
                    "was: %(error)s",
                    attempts=self.attempt,
                    error=message,
                )
            self.integration_id._fail_after_runs(reason)

    def _enqueue_retry(self, attempt=None, wait=None):
        if wait is None:
            wait = timedelta(seconds=retry_delay(self.attempt))
        return self._enqueue(
            self.integration_id,
            "retry",
            advances_watermark=self.advances_watermark,
            dry_run=self.dry_run,
            date_from=self.date_from,
            date_to=self.date_to,
            attempt=attempt or self.attempt + 1,
            parent_job_id=self.id,
            lane=self.lane,
            eta=fields.Datetime.now() + wait,
        )

    def _commit(self):
        """Commit the worker's transaction; in tests, where commits are forbidden, flush."""
        if self._can_commit():
            # Runs are units of work of their own, executed by the scheduler: each claim, batch
            # and end is committed so that other workers and a crash see where it stands.
            self.env.cr.commit()  # pylint: disable=invalid-commit
            end_read_committed(self.env.cr)  # a claim's transaction was READ COMMITTED
        else:
            self.env.flush_all()

    @api.model
    def _begin_read_committed(self):
        """Start a READ COMMITTED transaction for a claim.

        Claims lock rows that other workers change all the time; in Odoo's default REPEATABLE
        READ, locking a row changed since the snapshot is a serialization failure. Here each
        statement sees what is committed, and SKIP LOCKED passes over what is being claimed.
        In tests (no commits) the test's transaction goes on as it is.
        """
        if self._can_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit
            begin_read_committed(self.env.cr)
        else:
            self.env.flush_all()

    @api.model
    def _can_commit(self):
        testing = getattr(threading.current_thread(), "testing", False)
        return not testing and not self.env.registry.in_test_mode()

    # ---- Progress API for run_from_to (through AbstractIntegration.ihub_job())

    def add_counts(self, processed=0, succeeded=0, failed=0):
        """Count items of the running job; shown on the job when progress is committed."""
        self._progress().add(processed, succeeded, failed)

    def commit_progress(self, checkpoint=None):
        """Make the work done so far permanent and visible, and remember where it got to.

        After this, a failure or a crash no longer undoes that work, and the retry resumes
        from ``checkpoint`` (``job.resume_from``). When the worker's time budget is spent (a
        prefork server kills cron workers at ``limit_time_real_cron``), the run stops here
        and the next runner resumes it from ``checkpoint``. In tests nothing is committed, but
        a failure still keeps the work done before this call.
        """
        progress = self._progress()
        if checkpoint is not None:
            progress.checkpoint = str(checkpoint)
        if progress.dry_run:
            return  # nothing of a dry run is kept
        if progress.savepoint:
            progress.savepoint.close(rollback=False)
        progress.committed = progress.values()
        self._flush_exchanges(progress)
        self.sudo().write({"heartbeat_at": fields.Datetime.now(), **progress.committed})
        self._commit()
        deadline = slice_deadline()
        if checkpoint is not None and deadline and time.time() > deadline:
            raise _TimeSliceEnded()
        progress.savepoint = self._run_savepoint()

    def _flush_exchanges(self, progress):
        # Emptied in place: the run's HTTP sessions append to this very list (their recorder),
        # so a new list would lose every exchange made after the first commit.
        exchanges = list(progress.exchanges)
        progress.exchanges.clear()
        self.env["ihub.http.exchange"]._ihub_store(self, exchanges)

    @property
    def resume_from(self):
        """The checkpoint the previous attempt of this run committed, or None."""
        return self._progress().checkpoint

    def _progress(self):
        self.ensure_one()
        progress = progress_by_job().get(self.id)
        if progress is None or not progress.executing:
            raise UserError(_("Run %(job)s is not running in this worker.", job=self.id))
        return progress

    # ---- Runner cron and recovery

    @api.model
    def _cron_run_due_jobs(self, time_budget=None):
        """The job runner: recover dead runs, then run due jobs until the budget is spent.

        The budget keeps the cron inside the time a prefork server gives a cron worker
        (``limit_time_real_cron``): no job starts after it, and batched jobs pause at their
        next checkpoint once it is spent (``commit_progress``).
        """
        started = time.time()
        time_limit = _cron_time_limit()
        if time_budget is None:
            configured = self.env["ir.config_parameter"].sudo().get_param(BUDGET_PARAM)
            time_budget = float(configured) if configured else runner_budget(time_limit)
        budget = time_budget
        # Batched runs pause where a time limit would stop them.
        running.deadline = started + budget if time_limit else None
        try:
            self._recover_dead_jobs()
            if not self._run_due_jobs(started + budget):
                self._wake_runner()  # budget spent with jobs left: go on in a new cron run
                return
            # When this cron run ends, Odoo deletes its triggers dated before the run started,
            # to the second: a job queued in that second after our last look would wait for
            # the next poll. Keep looking until that second is over.
            next_second = math.floor(started) + 1
            while self._can_commit() and time.time() < next_second:
                time.sleep(min(0.05, max(0.0, next_second - time.time())))
                self._run_due_jobs(started + budget)
        finally:
            running.deadline = None

    @api.model
    def _run_due_jobs(self, deadline):
        """Claim and run due jobs until none is left (True) or ``deadline`` passes (False)."""
        while time.time() < deadline:
            job = self._claim_next()
            try:
                self._commit()
            except Exception:
                self._release_unstarted(job)
                raise
            if not job:
                return True
            job._run()
        return False

    def _release_unstarted(self, jobs):
        for job in jobs:
            progress = progress_by_job().pop(job.id, None)
            if progress and progress.lock:
                progress.lock.release()

    @api.model
    def _recover_dead_jobs(self):
        """Take back running jobs whose worker is gone: fail them and retry per policy.

        A worker is gone when nobody holds its run's advisory lock; no clock is compared. A
        run that committed progress before its worker died is resumed from its checkpoint
        without spending an attempt: a long run killed at a time limit goes on, not over.
        """
        self._begin_read_committed()
        cr = self.env.cr
        cr.execute("SELECT id FROM ihub_job WHERE state = 'running' ORDER BY id")
        dead = self.browse()
        for (job_id,) in cr.fetchall():
            if job_id in progress_by_job():
                continue  # running in this thread (tests run jobs nested in the runner)
            cr.execute(worker_is_gone_sql(), [job_id])
            if not cr.fetchone()[0]:
                continue
            # The worker may have ended the run just before: look again, now that we hold it.
            cr.execute(
                "SELECT id FROM ihub_job WHERE id = %s AND state = 'running' FOR UPDATE",
                [job_id],
            )
            if cr.fetchone():
                dead |= self.browse(job_id)
        for job in dead.sudo():
            job._record_dead_worker()
        self._commit()
        return dead

    def _record_dead_worker(self):
        message = _("The worker running this job stopped (%(worker)s).", worker=self.worker)
        _logger.warning("iHub job %s: %s", self.id, message)
        started_from = self.parent_job_id.checkpoint if self.trigger == "retry" else False
        progressed = bool(self.checkpoint) and self.checkpoint != started_from
        if not (progressed and self.advances_watermark):
            self._record_failure(RuntimeError(message), "")
            return
        self.write({"state": "failed", "ended_at": fields.Datetime.now(), "error_message": message})
        self.integration_id._ihub_event(
            "warning",
            _(
                "Run %(job)s lost its worker after saving its progress; it resumes there.",
                job=self.id,
            ),
            None,
            self,
            self.integration_id,
            job=self,
        )
        self._enqueue_retry(attempt=self.attempt, wait=timedelta(0))

    # ---- Retention

    @api.model
    def _ihub_retention_rules(self):
        """What history is purged, and after how many days (an ``ir.config_parameter``; 0 keeps
        it forever). Addons that keep more history (processed data, webhook payloads) add
        their own rules here."""
        return [
            # model, date field, parameter, default days, records that may go
            ("ihub.log", "date", "ihub.event_retention_days", 90, []),
            (
                "ihub.job",
                "ended_at",
                "ihub.run_retention_days",
                365,
                [("state", "in", ("done", "failed", "cancelled"))],
            ),
        ]

    @api.model
    def _cron_purge_history(self, batch_size=5000):
        """Delete history older than its retention, in batches committed one by one."""
        params = self.env["ir.config_parameter"].sudo()
        purged = {}
        for model, date_field, param, default_days, domain in self._ihub_retention_rules():
            days = int(params.get_param(param, default_days) or 0)
            if days <= 0:
                continue
            limit = fields.Datetime.now() - timedelta(days=days)
            Model = self.env[model].sudo().with_context(active_test=False)
            purged[model] = 0
            while True:
                batch = Model.search(domain + [(date_field, "<", limit)], limit=batch_size)
                if not batch:
                    break
                purged[model] += len(batch)
                batch.unlink()
                self._commit()
        return purged

    # ---- UI actions

    def action_retry(self):
        """Run a failed or cancelled job again, over the same period."""
        self.integration_id._check_can_operate()
        retries = self.browse()
        for job in self.sudo():
            if job.state not in ("failed", "cancelled"):
                raise UserError(_("Only failed or cancelled runs can be retried."))
            if job.advances_watermark and job.integration_id.state != "active":
                raise UserError(
                    _(
                        "'%(name)s' is not active: start it again (Reset first if it failed) "
                        "and its schedule runs this period again.",
                        name=job.integration_id.name,
                    )
                )
            if job.child_job_ids.filtered(
                lambda j: j.trigger == "retry" and j.state in ("pending", "running")
            ):
                raise UserError(_("This run is already being retried."))
            retries |= job._enqueue_retry(wait=timedelta(0))
        return retries

    def action_cancel(self):
        """Cancel runs that have not started yet."""
        self.integration_id._check_can_operate()
        if any(job.state != "pending" for job in self):
            raise UserError(_("Only pending runs can be cancelled."))
        self._cancel(_("Cancelled by %(user)s", user=self.env.user.name))
        return True


def _cron_time_limit():
    """Seconds Odoo lets a cron job run before it stops the worker, or None.

    A prefork server kills a cron worker at ``limit_time_real_cron`` (default:
    ``limit_time_real``, 120 s); a threaded server reloads itself once a cron thread passed
    the same limit. Either way the run ends there.
    """
    limit = config.get("limit_time_real_cron")
    if limit is None or limit < 0:
        limit = config.get("limit_time_real")
    return limit if limit and limit > 0 else None


def _lock_session(dbname):
    """This thread's connection for the run locks of ``dbname`` (``liveness.LockSession``)."""

    def connect():
        info = sql_db.connection_info_for(dbname)[1]
        name = f"{info.get('application_name', 'odoo')}-ihub-run-locks"[:63]
        return psycopg2.connect(**{**info, "application_name": name})

    return lock_session(dbname, connect)
