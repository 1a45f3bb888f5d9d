import json
import logging
import time
import traceback
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.ihub.lib import webhooks
from odoo.addons.ihub.lib.progress import slice_deadline

_logger = logging.getLogger(__name__)

STATES = [
    ("received", "Received"),
    ("processing", "Processing"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("dead", "Dead Letter"),
]
# System parameters (see the README's "Webhooks" section).
ATTEMPTS_PARAM = "ihub.webhook_event_attempts"
RETENTION_PARAM = "ihub.webhook_event_retention_days"
TOMBSTONE_PARAM = "ihub.webhook_tombstone_days"
LINGER_PARAM = "ihub.webhook_lane_linger_seconds"
# Delivery ids outlive their payloads by at least this long: a late redelivery is recognised.
MIN_TOMBSTONE_DAYS = 7
BATCH = 100


class IHubWebhookEvent(models.Model):
    """A push received at an integration's URL, stored before the sender got its 2xx.

    The controller (``controllers/webhook.py``) writes it with plain SQL in the request's own
    short transaction; a job of the integration's "webhook" lane then hands each event to the
    sub-model's ``hook`` (``_ihub_process_lane``). A delivery id is stored once per
    integration (unique index): a repeated or concurrent redelivery finds it and is not
    handled again. Once processed events are old enough, their payload is purged and the row
    stays as a small tombstone of its delivery id.
    """

    _name = "ihub.webhook.event"
    _description = "Received Webhook"
    _order = "id desc"
    _rec_name = "delivery_id"

    integration_id = fields.Many2one(
        "ihub.integration", required=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True)
    delivery_id = fields.Char(required=True, readonly=True, help="The sender's id of the push.")
    event_type = fields.Char(readonly=True, help="The payload's 'type', when it has one.")
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    headers = fields.Text(readonly=True, help="The request's headers, secrets masked.")
    payload_raw = fields.Text(string="Raw Payload", readonly=True)
    payload = fields.Json(string="Parsed Payload", readonly=True)
    payload_text = fields.Text(compute="_compute_payload_text", string="Payload")
    state = fields.Selection(STATES, default="received", required=True, readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True)
    processed_at = fields.Datetime(readonly=True)
    error = fields.Text(readonly=True)
    job_id = fields.Many2one("ihub.job", string="Run", readonly=True, ondelete="set null")
    purged = fields.Boolean(
        readonly=True, help="The payload was deleted after its retention; the id is kept."
    )

    def init(self):
        # The dedupe: one row per delivery id of an integration, also under concurrency.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS ihub_webhook_event_delivery_unique
                ON ihub_webhook_event (integration_id, delivery_id)
            """
        )
        # The lane job's look for work: the due events of one integration, in order.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS ihub_webhook_event_due_index
                ON ihub_webhook_event (integration_id, id)
             WHERE state IN ('received', 'processing', 'failed')
            """
        )

    @api.depends("payload")
    def _compute_payload_text(self):
        for event in self:
            event.payload_text = (
                json.dumps(event.payload, indent=2, ensure_ascii=False)
                if event.payload is not None
                else False
            )

    # ---- Intake (called by the controller, as superuser, in a READ COMMITTED transaction)

    @api.model
    def _ihub_store(self, integration_id, delivery_id, headers, body, payload):
        """Insert the event unless its delivery id is known; return its id or None (duplicate).

        ``ON CONFLICT DO NOTHING`` on the unique index: a concurrent duplicate waits for the
        first insert's transaction and then does nothing. Its times are whole seconds, as the
        ORM writes them: the lane compares them with ``fields.Datetime.now()``.
        """
        event_type = payload.get("type") if isinstance(payload, dict) else None
        self.env.cr.execute(
            """
            INSERT INTO ihub_webhook_event
                   (integration_id, company_id, delivery_id, event_type, received_at, headers,
                    payload_raw, payload, state, attempts, next_attempt_at,
                    create_uid, create_date, write_uid, write_date)
            SELECT id, company_id, %(delivery)s, %(type)s, %(now)s, %(headers)s,
                   %(raw)s, %(payload)s, 'received', 0, %(now)s,
                   %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
              FROM ihub_integration WHERE id = %(integration)s
            ON CONFLICT (integration_id, delivery_id) DO NOTHING
            RETURNING id
            """,
            {
                "integration": integration_id,
                "delivery": delivery_id,
                "type": str(event_type)[:200] if event_type is not None else None,
                "headers": json.dumps(headers, ensure_ascii=False),
                "raw": body.decode("utf-8", "replace"),
                "payload": json.dumps(payload),
                "uid": self.env.uid,
                "now": fields.Datetime.now(),
            },
        )
        row = self.env.cr.fetchone()
        return row[0] if row else None

    # ---- Processing (the "webhook" lane of the runs engine)

    @api.model
    def _ihub_process_lane(self, job, sub):
        """Hand the due events of ``job``'s integration to ``sub.hook``, oldest first.

        Each event is handled in a savepoint and committed with its outcome (through the
        run's progress API); a failure is retried with backoff, the last one leaves a dead
        letter. A run that handled events waits a moment for more before it ends (see
        ``_ihub_linger``). When the run ends with events waiting for a later attempt, the
        next batch is queued for then.
        """
        integration_id = job.integration_id.id
        max_attempts = self._ihub_max_attempts()
        linger, linger_deadline = self._ihub_linger(job)
        # Events that failed in this run: their retry is the next run's, after the backoff.
        retry_later = []
        handled_any = False
        while True:
            events = self._ihub_due(integration_id, exclude=retry_later)
            if not events:
                if handled_any and self._ihub_wait_for_more(
                    integration_id, retry_later, linger, linger_deadline
                ):
                    continue
                break
            # Each event's commit empties the ORM cache: read the attempts now, and handle
            # each event on its own, so that reading one event never fetches the whole
            # batch's payloads again.
            attempts = {event.id: event.attempts for event in events}
            for event_id, done_attempts in attempts.items():
                event = self.browse(event_id)
                if event._ihub_process_one(job, sub, max_attempts, done_attempts):
                    retry_later.append(event_id)
            handled_any = True
        self._ihub_queue_next(integration_id)

    @api.model
    def _ihub_due(self, integration_id, exclude=(), limit=BATCH):
        return self.search_fetch(
            [
                ("integration_id", "=", integration_id),
                ("state", "in", ("received", "processing", "failed")),
                ("next_attempt_at", "<=", fields.Datetime.now()),
                ("id", "not in", list(exclude)),
            ],
            ["attempts"],
            order="id",
            limit=limit,
        )

    @api.model
    def _ihub_linger(self, job):
        """How long a lane run waits for the next push once its queue is empty (seconds), and
        until when it may (a ``time.time()``, or None).

        Not in tests, whose single transaction sees no other pushes, nor in dry runs. A run
        stops waiting when its worker's time slice ends (prefork time limits) and once it
        is ``LANE_LINGER_MAX_AGE`` old.
        """
        Job = self.env["ihub.job"]
        if job.dry_run or not Job._can_commit():
            return 0.0, None
        value = self.env["ir.config_parameter"].sudo().get_param(LINGER_PARAM)
        linger = webhooks.lane_linger(value)
        if linger is None:
            _logger.warning(
                "iHub: system parameter %s is not a number of seconds (%r): waiting %s s",
                LINGER_PARAM,
                value,
                webhooks.DEFAULT_LANE_LINGER,
            )
            linger = webhooks.DEFAULT_LANE_LINGER
        deadline = time.time() + webhooks.LANE_LINGER_MAX_AGE
        time_slice_end = slice_deadline()
        if time_slice_end is not None:
            deadline = min(deadline, time_slice_end)
        return linger, deadline

    @api.model
    def _ihub_wait_for_more(self, integration_id, exclude, linger, deadline):
        """Wait up to ``linger`` seconds for a due event of the integration; True if one came."""
        Job = self.env["ihub.job"]
        # READ COMMITTED: each look sees the pushes committed since the previous one.
        Job._begin_read_committed()

        def has_more():
            return bool(self._ihub_due(integration_id, exclude, limit=1))

        try:
            return webhooks.wait_for_more(has_more, linger, deadline)
        finally:
            Job._commit()

    def _ihub_process_one(self, job, sub, max_attempts, done_attempts):
        """Hand this event to ``sub.hook`` and commit its outcome; True when it failed and
        waits for a later attempt."""
        self.ensure_one()
        attempt = done_attempts + 1
        self.write({"state": "processing", "job_id": job.id, "attempts": attempt})
        try:
            with self.env.cr.savepoint():
                sub.hook(self.with_env(sub.env))
        except Exception as error:
            message = str(error) or type(error).__name__
            details = traceback.format_exc()
            retry_later = attempt < max_attempts
            if not retry_later:
                self.write({"state": "dead", "error": details, "next_attempt_at": False})
                sub.super_id._ihub_event(
                    "error",
                    _(
                        "Webhook %(delivery)s failed %(attempts)s time(s) and is now a dead "
                        "letter: %(error)s",
                        delivery=self.delivery_id,
                        attempts=attempt,
                        error=message,
                    ),
                    details,
                    self,
                    sub.super_id,
                    job=job,
                )
            else:
                wait = webhooks.event_retry_delay(attempt)
                self.write(
                    {
                        "state": "failed",
                        "error": details,
                        "next_attempt_at": fields.Datetime.now() + timedelta(seconds=wait),
                    }
                )
            job.add_counts(processed=1, failed=1)
        else:
            retry_later = False
            self.write(
                {
                    "state": "done",
                    "error": False,
                    "processed_at": fields.Datetime.now(),
                    "next_attempt_at": False,
                }
            )
            job.add_counts(processed=1, succeeded=1)
        job.commit_progress(checkpoint=self.id)
        return retry_later

    @api.model
    def _ihub_queue_next(self, integration_id):
        """Queue the lane's next job for the earliest event waiting for a later attempt."""
        waiting = self.search(
            [
                ("integration_id", "=", integration_id),
                ("state", "in", ("received", "processing", "failed")),
            ],
            order="next_attempt_at",
            limit=1,
        )
        if waiting:
            self.env["ihub.job"]._ihub_ensure_lane_job(
                integration_id, "webhook", eta=waiting.next_attempt_at
            )

    @api.model
    def _ihub_max_attempts(self):
        value = self.env["ir.config_parameter"].sudo().get_param(ATTEMPTS_PARAM)
        return max(1, int(value or webhooks.DEFAULT_EVENT_ATTEMPTS))

    # ---- Replay

    def action_replay(self):
        """Process these events again (dead letters, failed or done ones), as soon as possible.

        Public: the form's and list's Replay buttons and the REST API call it. iHub users may
        replay the events of integrations they can operate.
        """
        self.integration_id._check_can_operate()
        if any(event.purged for event in self):
            raise UserError(_("The payload of a purged webhook is gone: it cannot be replayed."))
        if any(event.state == "processing" for event in self):
            raise UserError(_("A webhook being processed cannot be replayed now."))
        events = self.sudo()
        events.write(
            {
                "state": "received",
                "attempts": 0,
                "error": False,
                "next_attempt_at": fields.Datetime.now(),
            }
        )
        Job = self.env["ihub.job"].sudo()
        for integration in events.integration_id:
            Job._ihub_ensure_lane_job(integration.id, "webhook")
        return True

    # ---- Safety net and retention (crons)

    @api.model
    def _cron_sweep(self):
        """Queue a lane job for integrations with due events and none queued (a worker died
        between an event's commit and its job)."""
        self.env.cr.execute(
            """
            SELECT DISTINCT e.integration_id
              FROM ihub_webhook_event e
             WHERE e.state IN ('received', 'processing', 'failed')
               AND e.next_attempt_at <= now() AT TIME ZONE 'UTC'
               AND NOT EXISTS (
                    SELECT 1 FROM ihub_job j
                     WHERE j.integration_id = e.integration_id AND j.lane = 'webhook'
                       AND j.state IN ('pending', 'running'))
            """
        )
        for (integration_id,) in self.env.cr.fetchall():
            self.env["ihub.job"].sudo()._ihub_ensure_lane_job(integration_id, "webhook")

    @api.model
    def _cron_purge(self, batch_size=5000):
        """Purge the payloads of processed events after their retention (default 30 days),
        then delete the tombstones left at least 7 days later."""
        params = self.env["ir.config_parameter"].sudo()
        days = int(params.get_param(RETENTION_PARAM, 30) or 0)
        tombstone_days = max(MIN_TOMBSTONE_DAYS, int(params.get_param(TOMBSTONE_PARAM, 0) or 0))
        now = fields.Datetime.now()
        purged = deleted = 0
        if days > 0:
            Event = self.sudo()
            while True:
                batch = Event.search(
                    [
                        ("purged", "=", False),
                        ("state", "in", ("done", "dead")),
                        ("received_at", "<", now - timedelta(days=days)),
                    ],
                    limit=batch_size,
                )
                if not batch:
                    break
                batch.write(
                    {
                        "purged": True,
                        "payload": False,
                        "payload_raw": False,
                        "headers": False,
                        "error": False,
                    }
                )
                purged += len(batch)
                self.env["ihub.job"]._commit()
            while True:
                batch = Event.search(
                    [
                        ("purged", "=", True),
                        ("write_date", "<", now - timedelta(days=tombstone_days)),
                    ],
                    limit=batch_size,
                )
                if not batch:
                    break
                batch.unlink()
                deleted += len(batch)
                self.env["ihub.job"]._commit()
        return purged, deleted
