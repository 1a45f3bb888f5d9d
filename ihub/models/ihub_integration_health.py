from odoo import SUPERUSER_ID, _, api, fields, models

from odoo.addons.ihub.lib import health as health_lib
from odoo.addons.ihub.lib.schedule import interval_delta

HEALTH = [
    ("failing", "Failing"),
    ("late", "Late"),
    ("ok", "Healthy"),
    ("idle", "Not Running"),
]


class IHubIntegration(models.Model):
    """The health of an integration, for the dashboard and the form, and the "stale" alert.

    Every figure comes from an indexed query per integration (see ``ihub.job`` and ``ihub.log``
    ``init``), so that showing it costs the same with a day or years of history. Nothing here
    is written by a run: a run's end never waits for (or conflicts with) someone editing the
    integration.
    """

    _inherit = "ihub.integration"

    last_success_at = fields.Datetime(
        compute="_compute_health", string="Last Success", help="When a run last succeeded."
    )
    failure_streak = fields.Integer(
        compute="_compute_health",
        string="Failures in a Row",
        help="Runs that failed since the last successful one.",
    )
    runs_24h = fields.Integer(compute="_compute_health", string="Runs (24 h)")
    errors_24h = fields.Integer(compute="_compute_health", string="Errors (24 h)")
    next_run_at = fields.Datetime(
        compute="_compute_health",
        string="Next Run",
        help="When the integration runs next: its next scheduled time, or a run waiting.",
    )
    health = fields.Selection(HEALTH, compute="_compute_health", search="_search_health")
    health_color = fields.Integer(compute="_compute_health")
    active_since = fields.Datetime(
        readonly=True, copy=False, help="When the integration was last started."
    )
    stale_after = fields.Integer(
        string="Alert After",
        default=3,
        help="Tell the responsible when the started integration has not succeeded for this "
        "many intervals of its schedule (0: never).",
    )
    stale_alert = fields.Boolean(
        readonly=True,
        copy=False,
        help="The responsible was told that the integration has not succeeded for too long; "
        "cleared when it succeeds again.",
    )
    stale_activity_id = fields.Many2one(
        "mail.activity", readonly=True, copy=False, ondelete="set null"
    )

    # Counts on the dashboard stop here: enough to say "many", and bounded in cost.
    HEALTH_COUNT_CAP = 999

    @api.depends("state", "active_since", "stale_after", "interval_number", "interval_type")
    def _compute_health(self):
        stats = self._health_stats() if self.ids else {}
        crons = self.sudo().cron_id
        crons.fetch(["active", "nextcall"])
        now = fields.Datetime.now()
        for integration in self:
            last_success, streak, runs, errors, waiting = stats.get(
                integration.id, (False, 0, 0, 0, False)
            )
            integration.last_success_at = last_success
            integration.failure_streak = streak
            integration.runs_24h = runs
            integration.errors_24h = errors
            cron = integration.sudo().cron_id
            next_run = False
            if integration.state == "active" and cron.active:
                next_run = cron.nextcall
            if waiting:
                next_run = min(waiting, next_run) if next_run else waiting
            integration.next_run_at = next_run
            stale = integration.state == "active" and integration._is_stale(now, last_success)
            integration.health = health_lib.health(integration.state, streak, stale)
            integration.health_color = health_lib.HEALTH_COLORS[integration.health]

    def _health_stats(self):
        """{id: (last success, failures in a row, runs 24 h, errors 24 h, waiting run)}."""
        self.env["ihub.job"].flush_model()
        self.env["ihub.log"].flush_model()
        self.env.cr.execute(
            """
            SELECT integration.id, done.ended_at, streak.n, runs.n, errors.n, waiting.at
              FROM unnest(%(ids)s) AS integration(id)
              LEFT JOIN LATERAL (
                    SELECT id, ended_at FROM ihub_job
                     WHERE integration_id = integration.id AND state = 'done'
                  ORDER BY ended_at DESC, id DESC LIMIT 1
                   ) done ON TRUE
              LEFT JOIN LATERAL (
                    SELECT count(*) AS n FROM (
                        SELECT 1 FROM ihub_job
                         WHERE integration_id = integration.id AND state = 'failed'
                           AND id > COALESCE(done.id, 0)
                         LIMIT %(cap)s) capped
                   ) streak ON TRUE
              LEFT JOIN LATERAL (
                    SELECT count(*) AS n FROM (
                        SELECT 1 FROM ihub_job
                         WHERE integration_id = integration.id AND queued_at >= %(since)s
                         LIMIT %(cap)s) capped
                   ) runs ON TRUE
              LEFT JOIN LATERAL (
                    SELECT count(*) AS n FROM (
                        SELECT 1 FROM ihub_log
                         WHERE integration_id = integration.id AND level = 'error'
                           AND date >= %(since)s
                         LIMIT %(cap)s) capped
                   ) errors ON TRUE
              LEFT JOIN LATERAL (
                    SELECT min(COALESCE(eta, queued_at)) AS at FROM ihub_job
                     WHERE integration_id = integration.id AND state = 'pending'
                   ) waiting ON TRUE
            """,
            {
                "ids": self.ids,
                "cap": self.HEALTH_COUNT_CAP,
                "since": health_lib.last_24_hours(fields.Datetime.now()),
            },
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _is_stale(self, now, last_success):
        self.ensure_one()
        if self.interval_number <= 0:
            return False  # a schedule being typed in; the form says what is wrong on save
        return health_lib.is_stale(
            now,
            last_success,
            self.active_since,
            interval_delta(self.interval_number, self.interval_type),
            self.stale_after,
        )

    @api.model
    def _search_health(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise NotImplementedError(_("Unsupported search on the health of integrations."))
        values = {value} if isinstance(value, str) else set(value or ())
        matching = self.search([]).filtered(lambda i: i.health in values)
        positive = operator in ("=", "in")
        return [("id", "in" if positive else "not in", matching.ids)]

    # ---- The dashboard's counters

    @api.model
    def get_dashboard_counters(self):
        """Figures for the counters above the dashboard, over the integrations the user sees."""
        integrations = self.search([])
        counters = {key: 0 for key, _label in HEALTH}
        for integration in integrations:
            counters[integration.health] += 1
        counters.update(
            total=len(integrations),
            stopped=sum(1 for i in integrations if i.state == "stopped"),
            runs_24h=sum(integrations.mapped("runs_24h")),
            errors_24h=sum(integrations.mapped("errors_24h")),
        )
        return counters

    # ---- Started since when

    def write(self, vals):
        if vals.get("state") == "active" and "active_since" not in vals:
            starting = self.filtered(lambda i: i.state != "active")
            if starting:
                super(IHubIntegration, starting).write({"active_since": fields.Datetime.now()})
        result = super().write(vals)
        if "state" in vals:
            # The dashboard and the forms show the new state at once (ihub_job_live.py).
            self.env["ihub.job"]._ihub_live_queue((integration.id, None) for integration in self)
        return result

    # ---- The stale alert

    @api.model
    def _cron_check_stale(self):
        """Tell responsibles about started integrations that have not succeeded for too long
        (once per episode), and close the alerts of those that succeed again or stopped."""
        now = fields.Datetime.now()
        integrations = self.sudo().search(
            ["|", ("state", "=", "active"), ("stale_alert", "=", True)]
        )
        for integration in integrations:
            stale = integration.state == "active" and integration._is_stale(
                now, integration.last_success_at
            )
            if stale and not integration.stale_alert:
                integration._raise_stale_alert()
            elif not stale and integration.stale_alert:
                integration._close_stale_alert()

    def _raise_stale_alert(self):
        self.ensure_one()
        self.stale_alert = True
        if not self.user_id:
            return
        # From OdooBot, so that the responsible is notified (nobody is told about their own
        # activities) and sees that the system, not a colleague, raised it.
        bot = self.with_user(SUPERUSER_ID).with_context(mail_activity_quick_update=True)
        note = _(
            "It runs every %(number)s %(unit)s and has not succeeded for %(count)s intervals. "
            "Open its runs and events to see why; this alert closes by itself when a run "
            "succeeds again.",
            number=self.interval_number,
            unit=dict(self._fields["interval_type"]._description_selection(self.env))[
                self.interval_type
            ].lower(),
            count=self.stale_after,
        )
        self._notify(
            lambda i: i.write(
                {
                    "stale_activity_id": bot.browse(i.id)
                    .activity_schedule(
                        "mail.mail_activity_data_todo",
                        user_id=i.user_id.id,
                        summary=i.env._("%(name)s has not succeeded lately", name=i.name),
                        note=note,
                    )
                    .id
                }
            )
        )

    def _close_stale_alert(self):
        for integration in self.sudo().filtered("stale_alert"):
            activity = integration.stale_activity_id
            integration.write({"stale_alert": False, "stale_activity_id": False})
            if activity.exists():
                integration._notify(
                    lambda i, activity=activity: activity.with_user(SUPERUSER_ID).action_feedback(
                        feedback=activity.env._("It succeeded again.")
                    )
                )

    # ---- Following a queued run

    def _notify_queued(self):
        """The notice after "Run Manually", with a link to this integration's runs."""
        action = super()._notify_queued()
        action["tag"] = "ihub_run_queued"
        action["params"].update(
            message=_("The run starts in a moment."),
            link_label=_("Follow it on the Runs page"),
            integration_id=self.id,
        )
        return action
