import logging
import math
import os
import socket
import threading
import time
import traceback
from datetime import timedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.ihub.lib.exceptions import IHubPermanentError
from odoo.addons.ihub.lib.heartbeat import Heartbeat
from odoo.addons.ihub.lib.progress import RunProgress
from odoo.addons.ihub.lib.schedule import retry_delay

_logger = logging.getLogger(__name__)

TRIGGERS = [
    ("scheduled", "Scheduled"),
    ("manual", "Manual"),
    ("retry", "Retry"),
    ("fanout", "From Parent Run"),
    ("webhook", "Webhook"),
    ("api", "API"),
]
JOB_STATES = [
    ("pending", "Pending"),
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
DEFAULT_LEASE_SECONDS = 120
RUNNER_CODE = "model._cron_run_due_jobs()"

# The progress of the runs executing in this thread, by job id (see RunProgress).
_running = threading.local()


def _progress_by_job():
    if not hasattr(_running, "jobs"):
        _running.jobs = {}
    return _running.jobs


class IHubJob(models.Model):
    """One run of an integration: why it ran, over which period, how it ended.

    Jobs are created by the schedule, by "Run Manually", by retries and by parent runs, queued
    as *pending*, and executed by Odoo's scheduler (the iHub job runner cron, and each started
    integration's own cron). At most one job of an integration runs at a time, across all
    workers and servers: claiming a job locks its integration's row (``_claim``).
    """

    _name = "ihub.job"
    _description = "Integration Run"
    _order = "id desc"
    _rec_name = "display_name"

    integration_id = fields.Many2one(
        "ihub.integration", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True)
    trigger = fields.Selection(TRIGGERS, required=True, readonly=True, index=True)
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
    eta = fields.Datetime(string="Not Before", readonly=True, index=True)
    priority = fields.Integer(default=10, readonly=True)
    queued_at = fields.Datetime(default=fields.Datetime.now, readonly=True)
    started_at = fields.Datetime(readonly=True)
    ended_at = fields.Datetime(readonly=True)
    heartbeat_at = fields.Datetime(string="Last Sign of Life", readonly=True)
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
    error_traceback = fields.Text(readonly=True)
    note = fields.Char(readonly=True)
    worker = fields.Char(readonly=True, help="Server and process that ran the job.")
    user_id = fields.Many2one("res.users", string="Requested By", readonly=True)
    parent_job_id = fields.Many2one("ihub.job", readonly=True, index=True, ondelete="set null")
    child_job_ids = fields.One2many("ihub.job", "parent_job_id", string="Follow-up Runs")
    log_ids = fields.One2many("ihub.log", "job_id", string="Events")

    def init(self):
        # Beats go to a table of their own: the worker's transaction (REPEATABLE READ, like
        # every Odoo transaction) writes the job row at the end, which a concurrent update of
        # that row by the heartbeat thread would turn into a serialization failure.
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS ihub_job_heartbeat (
                job_id integer PRIMARY KEY,
                beat_at timestamp without time zone NOT NULL
            )
            """
        )

    @api.depends("started_at", "ended_at")
    def _compute_duration(self):
        for job in self:
            if job.started_at and job.ended_at:
                job.duration = (job.ended_at - job.started_at).total_seconds()
            else:
                job.duration = 0.0

    @api.depends("integration_id", "trigger")
    def _compute_display_name(self):
        labels = dict(TRIGGERS)
        for job in self:
            job.display_name = f"{job.integration_id.name} – {labels.get(job.trigger)} #{job.id}"

    # ---- Queueing

    @api.model
    def _enqueue(self, integration, trigger, **values):
        """Queue a run of ``integration`` and wake the job runner."""
        job = self.sudo().create(
            {
                "integration_id": integration.id,
                "trigger": trigger,
                "user_id": self.env.uid,
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
                    for runner in api.Environment(cr, SUPERUSER_ID, {})["ihub.job"]._runner_crons():
                        runner._trigger()

    @api.model
    def _runner_crons(self):
        return (
            self.env["ir.cron"]
            .sudo()
            .search([("model_id.model", "=", self._name), ("code", "=", RUNNER_CODE)])
        )

    # ---- Claiming: one running job per integration, whatever the number of workers

    @api.model
    def _claim_next(self, integrations=None):
        """Mark the next due pending job running and return it (empty when there is none).

        The caller commits. Jobs whose integration is running, or being claimed by another
        worker right now (its row is locked), are passed over.
        """
        cr = self.env.cr
        self._begin_read_committed()
        passed_over = [0]
        while True:
            cr.execute(
                f"""
                SELECT job.id, job.integration_id
                  FROM ihub_job job
                 WHERE job.state = 'pending'
                   AND (job.eta IS NULL OR job.eta <= %(now)s)
                   AND job.integration_id != ALL(%(passed_over)s)
                   {"AND job.integration_id = ANY(%(only)s)" if integrations is not None else ""}
              ORDER BY job.priority, job.eta NULLS FIRST, job.id
                 LIMIT 1
                   FOR UPDATE OF job SKIP LOCKED
                """,
                {
                    "passed_over": passed_over,
                    "only": integrations.ids if integrations else [],
                    "now": fields.Datetime.now(),
                },
            )
            row = cr.fetchone()
            if not row:
                return self.browse()
            job = self.browse(row[0])
            if not job._lock_integration():
                passed_over.append(row[1])
                continue
            started = job._start()
            if started:
                return started

    def _claim(self):
        """Claim this pending job if its integration is free; return it, or empty. The caller
        commits."""
        self.ensure_one()
        self._begin_read_committed()
        self.env.cr.execute(
            "SELECT id FROM ihub_job WHERE id = %s AND state = 'pending' FOR UPDATE SKIP LOCKED",
            [self.id],
        )
        if self.env.cr.fetchone() and self._lock_integration():
            return self._start()
        return self.browse()

    def _lock_integration(self):
        """Lock this job's integration row for the claim; False if it is busy."""
        cr = self.env.cr
        cr.execute(
            "SELECT id FROM ihub_integration WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
            [self.integration_id.id],
        )
        if not cr.fetchone():
            return False
        cr.execute(
            "SELECT 1 FROM ihub_job WHERE integration_id = %s AND state = 'running' LIMIT 1",
            [self.integration_id.id],
        )
        return not cr.fetchone()

    def _start(self):
        now = fields.Datetime.now()
        values = {
            "state": "running",
            "started_at": now,
            "heartbeat_at": now,
            "worker": f"{socket.gethostname()}:{os.getpid()}",
        }
        if self.advances_watermark and self.integration_id.state != "active":
            self.write(
                {
                    "state": "cancelled",
                    "ended_at": now,
                    "note": _("Cancelled: the integration is no longer active."),
                }
            )
            return self.browse()
        if self.advances_watermark:
            window = self.integration_id._scheduled_window(now)
            if window is None:
                self.write(
                    {
                        "state": "cancelled",
                        "ended_at": now,
                        "note": _("Skipped: the period to cover is empty."),
                    }
                )
                return self.browse()
            values["date_from"], values["date_to"] = window
        self.write(values)
        return self

    # ---- Running

    def _run(self):
        """Execute this claimed (running) job and record how it ended. Commits when allowed."""
        self.ensure_one()
        job = self.sudo()
        retried = job.parent_job_id if job.trigger == "retry" else job.browse()
        progress = RunProgress(checkpoint=retried.checkpoint or None)
        _progress_by_job()[job.id] = progress
        try:
            with job._heartbeat():
                progress.savepoint = self.env.cr.savepoint()
                try:
                    sub = job.integration_id._run_environment(job).sub_id
                    sub.run_from_to(job.date_from or None, job.date_to or None)
                    progress.savepoint.close(rollback=False)
                except Exception as error:
                    progress.savepoint.close(rollback=True)
                    self.env["ihub.log"]._restore_rolled_back_events()
                    job._record_failure(error, traceback.format_exc())
                else:
                    job._record_success(progress)
        finally:
            _progress_by_job().pop(job.id, None)
            job._commit()
        return job

    def _record_success(self, progress):
        self.write({"state": "done", "ended_at": fields.Datetime.now(), **progress.values()})
        if self.advances_watermark:
            self.integration_id._move_watermark(self.date_to)

    def _record_failure(self, error, error_traceback):
        # Only what was committed counts: the rest was rolled back. A job recovered from a dead
        # worker has no progress here: keep what it committed.
        progress = _progress_by_job().get(self.id)
        message = str(error) or type(error).__name__
        self.write(
            {
                "state": "failed",
                "ended_at": fields.Datetime.now(),
                "error_message": message,
                "error_traceback": error_traceback,
                **(progress.committed if progress else {}),
            }
        )
        self.integration_id.with_context(ihub_job_id=self.id).ihub_error(
            _("Run failed: %(error)s", error=message), details=error_traceback, related=self
        )
        if not self.advances_watermark:
            return
        permanent = isinstance(error, IHubPermanentError)
        if not permanent and self.attempt < self.max_attempts:
            self._enqueue_retry()
        else:
            reason = _(
                "run failed %(attempts)s time(s), last: %(error)s",
                attempts=self.attempt,
                error=message,
            )
            self.integration_id._fail_after_runs(reason)

    def _enqueue_retry(self):
        wait = timedelta(seconds=retry_delay(self.attempt))
        return self._enqueue(
            self.integration_id,
            "retry",
            advances_watermark=self.advances_watermark,
            attempt=self.attempt + 1,
            parent_job_id=self.id,
            eta=fields.Datetime.now() + wait,
        )

    def _heartbeat(self):
        """Keep the lease of this running job alive from another connection (not in tests)."""
        if not self._can_commit():
            return _NoHeartbeat()
        registry, job_id = self.env.registry, self.id

        def beat():
            with registry.cursor() as cr:
                cr.execute(
                    """
                    INSERT INTO ihub_job_heartbeat (job_id, beat_at) VALUES (%s, %s)
                    ON CONFLICT (job_id) DO UPDATE SET beat_at = EXCLUDED.beat_at
                    """,
                    [job_id, fields.Datetime.now()],
                )

        def forget():
            with registry.cursor() as cr:
                cr.execute("DELETE FROM ihub_job_heartbeat WHERE job_id = %s", [job_id])

        return Heartbeat(
            beat, max(1, self._lease_seconds() // 4), name=f"ihub-job-{job_id}", on_exit=forget
        )

    def _commit(self):
        """Commit the worker's transaction; in tests, where commits are forbidden, flush."""
        if self._can_commit():
            # Runs are units of work of their own, executed by the scheduler: each claim, batch
            # and end is committed so that other workers and a crash see where it stands.
            self.env.cr.commit()  # pylint: disable=invalid-commit
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
            self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        else:
            self.env.flush_all()

    @api.model
    def _can_commit(self):
        testing = getattr(threading.current_thread(), "testing", False)
        return not testing and not self.env.registry.in_test_mode()

    @api.model
    def _lease_seconds(self):
        value = self.env["ir.config_parameter"].sudo().get_param("ihub.job_lease_seconds")
        return int(value or DEFAULT_LEASE_SECONDS)

    # ---- Progress API for run_from_to (through AbstractIntegration.ihub_job())

    def add_counts(self, processed=0, succeeded=0, failed=0):
        """Count items of the running job; shown on the job when progress is committed."""
        self._progress().add(processed, succeeded, failed)

    def commit_progress(self, checkpoint=None):
        """Make the work done so far permanent and visible, and remember where it got to.

        After this, a failure or a crash no longer undoes that work, and the retry can resume
        from ``checkpoint`` (``job.checkpoint``). In tests nothing is committed, but a failure
        still keeps the work done before this call.
        """
        progress = self._progress()
        if checkpoint is not None:
            progress.checkpoint = str(checkpoint)
        progress.savepoint.close(rollback=False)
        progress.committed = progress.values()
        self.sudo().write({"heartbeat_at": fields.Datetime.now(), **progress.committed})
        self._commit()
        progress.savepoint = self.env.cr.savepoint()

    @property
    def resume_from(self):
        """The checkpoint the previous attempt of this run committed, or None."""
        return self._progress().checkpoint

    def _progress(self):
        self.ensure_one()
        progress = _progress_by_job().get(self.id)
        if progress is None:
            raise UserError(_("Job %(job)s is not running in this worker.", job=self.id))
        return progress

    # ---- Runner cron and recovery

    @api.model
    def _cron_run_due_jobs(self, time_budget=50):
        """The job runner: recover dead runs, then run due jobs until the budget is spent."""
        started = time.time()
        self._recover_stale_jobs()
        if not self._run_due_jobs(started + time_budget):
            self._wake_runner()  # budget spent with jobs left: go on in a new cron run
            return
        # When this cron run ends, Odoo deletes its triggers dated before the run started, to
        # the second: a job queued in that second after our last look would wait for the next
        # poll. Keep looking until that second is over.
        next_second = math.floor(started) + 1
        while self._can_commit() and time.time() < next_second:
            time.sleep(min(0.05, max(0.0, next_second - time.time())))
            self._run_due_jobs(started + time_budget)

    @api.model
    def _run_due_jobs(self, deadline):
        """Claim and run due jobs until none is left (True) or ``deadline`` passes (False)."""
        while time.time() < deadline:
            job = self._claim_next()
            self._commit()
            if not job:
                return True
            job._run()
        return False

    @api.model
    def _recover_stale_jobs(self):
        """Take back running jobs whose worker stopped beating: fail them, retry per policy."""
        limit = fields.Datetime.now() - timedelta(seconds=self._lease_seconds())
        self._begin_read_committed()
        self.env.cr.execute(
            """
            SELECT job.id FROM ihub_job job
              LEFT JOIN ihub_job_heartbeat beat ON beat.job_id = job.id
             WHERE job.state = 'running'
               AND GREATEST(job.heartbeat_at, beat.beat_at) < %s
               FOR UPDATE OF job SKIP LOCKED
            """,
            [limit],
        )
        stale = self.browse([row[0] for row in self.env.cr.fetchall()])
        for job in stale.sudo():
            message = _(
                "The worker running this job stopped (no sign of life since %(date)s).",
                date=job.heartbeat_at,
            )
            _logger.warning("iHub job %s: %s", job.id, message)
            job._record_failure(RuntimeError(message), "")
        self.env.flush_all()
        self.env.cr.execute(
            """
            DELETE FROM ihub_job_heartbeat beat
             WHERE NOT EXISTS (SELECT 1 FROM ihub_job job
                                WHERE job.id = beat.job_id AND job.state = 'running')
            """
        )
        self._commit()
        return stale

    # ---- UI actions

    def action_retry(self):
        """Run a failed or cancelled job again, over the same period."""
        self.integration_id._check_can_operate()
        retries = self.browse()
        for job in self.sudo():
            if job.state not in ("failed", "cancelled"):
                raise UserError(_("Only failed or cancelled runs can be retried."))
            if job.child_job_ids.filtered(
                lambda j: j.trigger == "retry" and j.state in ("pending", "running")
            ):
                raise UserError(_("This run is already being retried."))
            retries |= self._enqueue(
                job.integration_id,
                "retry",
                date_from=job.date_from,
                date_to=job.date_to,
                advances_watermark=job.advances_watermark,
                attempt=job.attempt + 1,
                parent_job_id=job.id,
            )
        return retries

    def action_cancel(self):
        """Cancel runs that have not started yet."""
        self.integration_id._check_can_operate()
        if any(job.state != "pending" for job in self):
            raise UserError(_("Only pending runs can be cancelled."))
        self.sudo().write(
            {"state": "cancelled", "ended_at": fields.Datetime.now(), "note": _("Cancelled")}
        )
        return True


class _NoHeartbeat:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False
