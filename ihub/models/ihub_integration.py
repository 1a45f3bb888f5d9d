from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.ihub.lib import progress as run_progress
from odoo.addons.ihub.lib.schedule import INTERVAL_UNITS

from .ihub_job import JOB_STATES

# The action date holding where the last successful scheduled run stopped.
WATERMARK_KEY = "ihub_scheduled_until"

# Set while a sub-model creates its integration, so that the integration does not create a
# second sub-record for itself.
CREATING_FROM_SUB = "ihub_creating_from_sub"


class IHubIntegration(models.Model):
    """An integration: what every integration has, whatever system it talks to.

    Each integration has exactly one sub-record, of the model its type names, that holds what is
    specific to it (see ``ihub.abstract_integration``). ``integration.sub_id`` returns it.
    """

    _name = "ihub.integration"
    _description = "Integration"
    _inherit = ["mail.thread", "mail.activity.mixin", "ihub.data.plane"]
    _order = "sequence, name, id"
    _check_company_auto = True
    # iHub users operate integrations without editing them: they discuss them in the chatter too.
    _mail_post_access = "read"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    type_id = fields.Many2one(
        "ihub.integration.type",
        string="Type",
        required=True,
        ondelete="restrict",
        index=True,
        tracking=True,
        help="What kind of integration this is. It cannot be changed after creation.",
    )
    model_name = fields.Char(related="type_id.model_name", store=True, index=True, string="Model")
    type_summary = fields.Html(related="type_id.summary", string="About this Type")
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("active", "Active"),
            ("stopped", "Stopped"),
            ("failed", "Failed"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        help="Draft: being set up. Active: runs on its schedule. Stopped: does not run on its "
        "own. Failed: stopped by an error that needs attention.",
    )
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        default=lambda self: self.env.company,
        index=True,
        tracking=True,
        help="The company this integration works for. Empty for an integration that handles "
        "every company by itself.",
    )
    active = fields.Boolean(default=True, tracking=True)
    # Set when stopping a parent stopped this one too: starting the parent starts it again.
    # A child stopped by a user is left stopped (see action_start).
    stopped_with_parent = fields.Boolean(readonly=True, copy=False)
    image = fields.Image(
        compute="_compute_image",
        inverse="_inverse_image",
        help="Shown on the dashboard. Defaults to the icon of the integration type.",
    )
    custom_image = fields.Image(max_width=512, max_height=512, attachment=True, copy=False)
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        domain=lambda self: self._run_user_domain(),
        help="Who is told when this integration fails; the runs have this user's access "
        "rights unless Run As names someone else.",
    )
    parent_id = fields.Many2one(
        "ihub.integration",
        string="Parent Integration",
        index=True,
        ondelete="restrict",
        check_company=True,
        help="For integrations built on top of a connector: the connector integration.",
    )
    child_ids = fields.One2many("ihub.integration", "parent_id", string="Child Integrations")
    log_ids = fields.One2many("ihub.log", "integration_id", string="Events")
    action_date_ids = fields.One2many("ihub.action.date", "integration_id", string="Action Dates")
    # ---- Talking to the other system (ihub_http)
    base_url = fields.Char(
        string="Base URL",
        tracking=True,
        help="Where the other system's API is, e.g. https://shop.example.com/api. Requests of "
        "the integration's code name paths below it.",
    )
    allow_private_network = fields.Boolean(
        string="Allow Private Network",
        tracking=True,
        help="Let the integration reach addresses of this machine or of a private network "
        "(an on-premise system, another server of yours). Off, iHub refuses them, so that a "
        "URL typed in a setting cannot make the server reach its own internal services.",
    )
    http_debug = fields.Boolean(
        string="Record Request Bodies",
        help="Keep what each request sent and received with its run, to diagnose a problem. "
        "Turn it off afterwards: bodies may hold personal data.",
    )
    rate_limit = fields.Integer(
        string="Request Quota",
        help="The most requests the other system accepts per period (0: no limit). All "
        "workers and servers share it: requests are paced to stay below it.",
    )
    rate_limit_period = fields.Selection(
        [("second", "per second"), ("minute", "per minute"), ("hour", "per hour")],
        default="minute",
        required=True,
        string="Quota Period",
    )
    field_mapping_ids = fields.One2many(
        "ihub.field.mapping", "integration_id", string="Field Mappings"
    )
    log_count = fields.Integer(compute="_compute_log_summary", string="Event Count")
    last_log_id = fields.Many2one("ihub.log", compute="_compute_log_summary", string="Last Event")
    last_log_summary = fields.Char(compute="_compute_log_summary", string="Last Event Summary")
    last_log_level = fields.Selection(
        [("info", "Info"), ("warning", "Warning"), ("error", "Error")],
        compute="_compute_log_summary",
        string="Last Event Level",
    )
    last_log_date = fields.Datetime(compute="_compute_log_summary", string="Last Event Date")
    last_error_date = fields.Datetime(
        compute="_compute_log_summary",
        string="Last Error",
        help="When the latest error happened, unless a run succeeded since: a healthy "
        "integration shows none.",
    )
    log_count_label = fields.Char(compute="_compute_log_summary", string="Events Shown")
    recent_log_ids = fields.One2many(
        "ihub.log", compute="_compute_recent_history", string="Latest Events"
    )
    recent_job_ids = fields.One2many(
        "ihub.job", compute="_compute_recent_history", string="Latest Runs"
    )

    # ---- Schedule and runs
    cron_id = fields.Many2one(
        "ir.cron", string="Scheduled Action", readonly=True, copy=False, ondelete="set null"
    )
    interval_number = fields.Integer(
        string="Run Every",
        default=1,
        required=True,
        tracking=True,
        help="How often the integration runs once started.",
    )
    interval_type = fields.Selection(
        [(unit, unit.capitalize()) for unit in INTERVAL_UNITS],
        string="Interval Unit",
        default="hours",
        required=True,
        tracking=True,
    )
    interval_label = fields.Char(
        compute="_compute_interval_label",
        string="Schedule",
        help="How often the integration runs once started.",
    )
    start_date = fields.Datetime(
        string="First Run From",
        help="Start of the period the first scheduled run covers. Empty: one interval back.",
    )
    overlap_minutes = fields.Integer(
        string="Overlap (minutes)",
        default=0,
        help="Each scheduled run also covers this many minutes before where the previous one "
        "stopped, for systems whose records show up late.",
    )
    max_attempts = fields.Integer(
        default=4,
        required=True,
        help="How many times a failing scheduled run is tried (retries wait 1, 5, 25 minutes "
        "…) before the integration is set to failed.",
    )
    run_user_id = fields.Many2one(
        "res.users",
        string="Run As",
        domain=lambda self: self._run_user_domain(),
        tracking=True,
        default=lambda self: self._default_run_user(),
        help="The iHub user whose access rights the runs have. Empty: the responsible user. "
        "Only settings administrators may choose someone other than themselves.",
    )
    job_ids = fields.One2many("ihub.job", "integration_id", string="Runs")
    job_count = fields.Integer(compute="_compute_job_summary", string="Run Count")
    job_count_label = fields.Char(compute="_compute_job_summary", string="Runs Shown")
    last_job_id = fields.Many2one("ihub.job", compute="_compute_job_summary", string="Last Run")
    last_job_state = fields.Selection(
        JOB_STATES,
        compute="_compute_job_summary",
        string="Last Run State",
    )
    scheduled_until = fields.Datetime(
        compute="_compute_job_summary",
        help="Where the last successful scheduled run stopped: the next one starts there.",
    )

    # The sub-model's flags, readable here to show or hide buttons.
    is_job = fields.Boolean(related="type_id.is_job")
    is_manually_runnable = fields.Boolean(related="type_id.is_manually_runnable")
    has_time_period = fields.Boolean(related="type_id.has_time_period")
    is_multi_company_compatible = fields.Boolean(related="type_id.is_multi_company_compatible")
    is_singleton = fields.Boolean(related="type_id.is_singleton")
    has_dry_run = fields.Boolean(related="type_id.has_dry_run")
    accepts_webhooks = fields.Boolean(related="type_id.accepts_webhooks")

    # ---- Computes

    @api.depends("custom_image", "type_id")
    def _compute_image(self):
        for integration in self:
            integration.image = integration.custom_image or integration.type_id.icon

    def _inverse_image(self):
        for integration in self:
            integration.custom_image = integration.image

    @api.depends("interval_number", "interval_type")
    def _compute_interval_label(self):
        units = dict(self._fields["interval_type"]._description_selection(self.env))
        for integration in self:
            number, unit = integration.interval_number, units.get(integration.interval_type, "")
            integration.interval_label = (
                _("Every %(unit)s", unit=unit.lower().rstrip("s"))
                if number == 1
                else _("Every %(number)s %(unit)s", number=number, unit=unit.lower())
            )

    # The history pages of the form and the dashboard show this much; older entries are one
    # click away (the Events and Runs buttons). Counts stop at COUNT_CAP. Both keep the cost of
    # showing an integration independent of how long its history is.
    RECENT_LIMIT = 20
    COUNT_CAP = 1000

    def _compute_log_summary(self):
        stats = {}
        if self.ids:
            self.env["ihub.log"].flush_model()
            self.env["ihub.job"].flush_model(["state", "ended_at"])
            self.env.cr.execute(
                """
                SELECT integration.id, counted.n, last.id,
                       CASE WHEN last_success.ended_at >= last_error.date THEN NULL
                            ELSE last_error.date END
                  FROM unnest(%(ids)s) AS integration(id)
                  LEFT JOIN LATERAL (
                        SELECT count(*) AS n FROM (
                            SELECT 1 FROM ihub_log WHERE integration_id = integration.id
                             LIMIT %(cap)s) capped
                       ) counted ON TRUE
                  LEFT JOIN LATERAL (
                        SELECT id FROM ihub_log WHERE integration_id = integration.id
                      ORDER BY date DESC, id DESC LIMIT 1
                       ) last ON TRUE
                  LEFT JOIN LATERAL (
                        SELECT date FROM ihub_log
                         WHERE integration_id = integration.id AND level = 'error'
                      ORDER BY date DESC LIMIT 1
                       ) last_error ON TRUE
                  -- A run that succeeded after the error: healthy again, no error to show.
                  -- Walks the integration's runs newest first (ihub_job_integration_id_desc
                  -- index) only as far back as its failure streak.
                  LEFT JOIN LATERAL (
                        SELECT ended_at FROM ihub_job
                         WHERE integration_id = integration.id AND state = 'done'
                      ORDER BY id DESC LIMIT 1
                       ) last_success ON TRUE
                """,
                {"ids": self.ids, "cap": self.COUNT_CAP + 1},
            )
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        last_logs = self.env["ihub.log"].sudo().browse(row[1] for row in stats.values() if row[1])
        last_logs.fetch(["summary", "level", "date"])
        for integration in self:
            count, last_id, last_error = stats.get(integration.id, (0, False, False))
            last_log = last_logs.browse(last_id)
            integration.log_count = count
            integration.log_count_label = self._count_label(count)
            integration.last_log_id = last_log
            integration.last_log_summary = last_log.summary
            integration.last_log_level = last_log.level
            integration.last_log_date = last_log.date
            integration.last_error_date = last_error

    def _compute_job_summary(self):
        stats = {}
        if self.ids:
            self.env["ihub.job"].flush_model()
            self.env.cr.execute(
                """
                SELECT integration.id, counted.n, last.id
                  FROM unnest(%(ids)s) AS integration(id)
                  LEFT JOIN LATERAL (
                        SELECT count(*) AS n FROM (
                            SELECT 1 FROM ihub_job WHERE integration_id = integration.id
                             LIMIT %(cap)s) capped
                       ) counted ON TRUE
                  LEFT JOIN LATERAL (
                        SELECT id FROM ihub_job WHERE integration_id = integration.id
                      ORDER BY id DESC LIMIT 1
                       ) last ON TRUE
                """,
                {"ids": self.ids, "cap": self.COUNT_CAP + 1},
            )
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        jobs = self.env["ihub.job"].sudo()
        watermarks = {
            action_date.integration_id: action_date.date
            for action_date in self.env["ihub.action.date"]
            .sudo()
            .search([("integration_id", "in", self.ids), ("key", "=", WATERMARK_KEY)])
        }
        for integration in self:
            count, last_id = stats.get(integration.id, (0, False))
            integration.job_count = count
            integration.job_count_label = self._count_label(count)
            integration.last_job_id = jobs.browse(last_id)
            integration.last_job_state = integration.last_job_id.state
            integration.scheduled_until = watermarks.get(integration, False)

    @api.model
    def _count_label(self, count):
        return f"{self.COUNT_CAP}+" if count > self.COUNT_CAP else str(count)

    def _compute_recent_history(self):
        for integration in self:
            domain = [("integration_id", "=", integration.id)]
            integration.recent_log_ids = self.env["ihub.log"].search(
                domain, limit=self.RECENT_LIMIT
            )
            integration.recent_job_ids = self.env["ihub.job"].search(
                domain, limit=self.RECENT_LIMIT
            )

    # ---- Constraints

    @api.constrains("interval_number", "max_attempts", "overlap_minutes")
    def _check_schedule(self):
        for integration in self:
            if integration.interval_number < 1:
                raise ValidationError(_("The integration must run at least every 1 unit."))
            if integration.max_attempts < 1:
                raise ValidationError(_("A run is tried at least once."))
            if integration.overlap_minutes < 0:
                raise ValidationError(_("The overlap cannot be negative."))

    @api.constrains("base_url", "rate_limit")
    def _check_connection(self):
        for integration in self:
            if integration.rate_limit < 0:
                raise ValidationError(_("The request quota cannot be negative."))
            url = (integration.base_url or "").strip()
            if url and not url.lower().startswith(("http://", "https://")):
                raise ValidationError(
                    _("The base URL must start with http:// or https:// (%(url)s).", url=url)
                )

    @api.constrains("type_id", "company_id", "active")
    def _check_singleton(self):
        for integration in self.filtered("is_singleton"):
            domain = [("type_id", "=", integration.type_id.id), ("id", "!=", integration.id)]
            if not integration.is_multi_company_compatible:
                domain.append(("company_id", "=", integration.company_id.id))
            other = self.sudo().with_context(active_test=False).search(domain, limit=1)
            if other:
                raise ValidationError(
                    _(
                        "Only one '%(type)s' integration is allowed%(scope)s, and '%(other)s' "
                        "already exists%(archived)s.",
                        type=integration.type_id.name,
                        scope="" if integration.is_multi_company_compatible else _(" per company"),
                        other=other.name,
                        archived="" if other.active else _(" (archived)"),
                    )
                )

    @api.constrains("company_id", "type_id")
    def _check_company_required(self):
        for integration in self:
            if not integration.company_id and not integration.is_multi_company_compatible:
                raise ValidationError(
                    _(
                        "Choose the company integration '%(name)s' works for.",
                        name=integration.name,
                    )
                )

    @api.constrains("parent_id")
    def _check_parent_id(self):
        if self._has_cycle():
            raise ValidationError(_("An integration cannot be its own parent."))

    @api.constrains("run_user_id")
    def _check_run_user_id(self):
        for integration in self.filtered("run_user_id"):
            problem = integration._run_user_problem(integration.run_user_id)
            if problem:
                raise ValidationError(problem)

    # ---- CRUD

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            integration_type = self.env["ihub.integration.type"].browse(vals.get("type_id"))
            if "company_id" not in vals and integration_type.is_multi_company_compatible:
                # Such an integration serves every company: it belongs to none.
                vals["company_id"] = False
        creating_from_sub = self.env.context.get(CREATING_FROM_SUB)
        # The flag is for this create only: nothing created below (mail, sub-records) sees it.
        integrations = super(
            IHubIntegration, self.with_context(**{CREATING_FROM_SUB: False})
        ).create(vals_list)
        integrations._check_run_user_choice()
        if not creating_from_sub:
            for integration in integrations:
                self.env[integration.model_name].create({"super_id": integration.id})
        return integrations.with_env(self.env)

    def write(self, vals):
        if "type_id" in vals and any(i.type_id.id != vals["type_id"] for i in self):
            raise UserError(
                _("The type of an integration cannot be changed. Create a new integration.")
            )
        if vals.get("active") is False:
            self.filtered("active").action_stop()
        run_users = {integration: integration._effective_run_user() for integration in self}
        result = super().write(vals)
        if {"run_user_id", "user_id"} & set(vals):
            self.filtered(
                lambda i: i._effective_run_user() != run_users.get(i)
            )._check_run_user_choice()
        if {"name", "interval_number", "interval_type"} & set(vals):
            for integration in self.sudo().filtered("cron_id"):
                integration._ensure_cron(active=integration.cron_id.active)
        return result

    def unlink(self):
        self.sudo().cron_id._ihub_wait_unlocked()
        self.sudo().cron_id.unlink()
        for model_name, integrations in self.grouped("model_name").items():
            if model_name in self.env:
                integrations.sub_id.unlink()
        # Deleting a sub-record already deleted its integration: only the rest is left.
        return super(IHubIntegration, self.exists()).unlink()

    def copy(self, default=None):  # pylint: disable=method-required-super
        raise UserError(_("Integrations cannot be duplicated: create a new one from its type."))

    # ---- The sub-record

    @property
    def sub_id(self):
        """The sub-records of these integrations, as a recordset of their (common) model."""
        model_names = set(self.mapped("model_name"))
        if not model_names:
            return self.env["ihub.abstract_integration"]
        if len(model_names) > 1:
            raise ValueError(f"Integrations of several models have no common sub_id: {self}")
        subs = (
            self.env[model_names.pop()]
            .with_context(active_test=False)
            .search_fetch([("super_id", "in", self.ids)], ["super_id"])
        )
        sub_by_super = {sub.super_id.id: sub.id for sub in subs}
        return subs.browse([sub_by_super[i] for i in self.ids if i in sub_by_super]).with_env(
            self.env
        )

    @api.model
    def _ihub_to_super(self, integration):
        """Return ``integration`` (a super, a sub-record, an id or nothing) as a super record."""
        supers = self.sudo()
        if not integration:
            return supers
        if isinstance(integration, int):
            return supers.browse(integration)
        if isinstance(integration, models.BaseModel):
            if integration._name == self._name:
                return integration.sudo()[:1]
            if integration._inherits.get(self._name) == "super_id":
                return integration.sudo().super_id[:1]
        raise TypeError(
            f"expected an ihub.integration, one of its sub-records or an id, not {integration!r}"
        )

    # ---- Lifecycle

    def fail(self, reason=None):
        """Put the integrations in the failed state and tell their responsible users."""
        self._check_can_operate()
        self._fail(reason)
        return True

    def _fail(self, reason, log_event=True):
        """Fail the integrations; one notice per failure episode (see _notify_failure).

        ``log_event``: also record the reason as an error event (a failed run has recorded its
        own error already).
        """
        for integration in self:
            if log_event:
                integration.sudo().ihub_error(
                    reason or _("Integration failed"), integration=integration
                )
            if integration.state == "failed":
                continue  # the same episode: its notice is out already
            # Written as OdooBot, who also posts the notice: the responsible (often the run
            # user too) did not fail it, and Odoo notifies no one of their own changes.
            integration.with_user(SUPERUSER_ID).state = "failed"
            integration._deactivate_cron()
            integration._notify_failure(reason)

    def action_start(self):
        """Start the integrations and those children that were not stopped on purpose.

        A child stopped by a user, or failed, stays as it is: starting its parent is not a
        decision about it. The user is told which children were left alone.
        """
        self._check_can_operate()
        to_start, left_alone = self._startable_descendants()
        for integration in to_start:
            if not integration.is_job:
                if integration.accepts_webhooks:
                    # Active means accepting pushes (its webhook URL answers); no schedule.
                    integration.sudo().state = "active"
                    continue
                if integration in self:
                    raise UserError(
                        _("'%(name)s' does not run on a schedule.", name=integration.name)
                    )
                continue
            integration._run_user()
            integration.sudo()._ensure_cron(active=True)
            integration.sudo().write({"state": "active", "stopped_with_parent": False})
            # The first run happens now, not at the scheduler's next poll.
            integration.sudo().cron_id._trigger()
        if not left_alone:
            return True
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "sticky": True,
                "message": _(
                    "Started. These child integrations were stopped by a user or failed, and "
                    "stay as they are; start them yourself if they should run: %(names)s",
                    names=", ".join(left_alone.mapped("name")),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _startable_descendants(self):
        """(to start, left alone): these integrations and their descendants, except children
        stopped by a user or failed, and what is below those."""
        to_start, left_alone = self.browse(), self.browse()
        todo = list(self)
        while todo:
            integration = todo.pop(0)
            if integration in to_start:
                continue
            if integration not in self and (
                integration.state == "failed"
                or (integration.state == "stopped" and not integration.stopped_with_parent)
            ):
                left_alone |= integration
                continue
            to_start |= integration
            todo.extend(integration.child_ids)
        return to_start, left_alone

    def _with_descendants(self):
        return self.search([("id", "child_of", self.ids)]) if self else self

    def action_stop(self):
        """Stop the integrations and their children: they no longer run on their own."""
        self._check_can_operate()
        for integration in self._with_descendants().sudo():
            integration._deactivate_cron()
            if integration.state == "active":
                integration.write(
                    {"state": "stopped", "stopped_with_parent": integration not in self}
                )
            elif integration in self:
                integration.stopped_with_parent = False
            # Queued scheduled runs and retries belong to the schedule: they stop with it.
            integration.job_ids.filtered(
                lambda j: j.state == "pending" and j.advances_watermark
            )._cancel(_("Cancelled: the integration was stopped."))
        return True

    def _deactivate_cron(self):
        # The cron may be running this integration right now (and so be locked by Odoo's
        # scheduler): then it stays active and finds the integration no longer active.
        crons = self.sudo().cron_id.filtered("active")
        if crons:
            crons.try_write({"active": False})

    def action_reset(self):
        """Clear the failed state after the cause was fixed; the integration stays stopped.

        The failure notice stays open until a run succeeds: Reset says the cause is fixed,
        a successful run shows it.
        """
        self._check_can_operate()
        self.filtered(lambda i: i.state == "failed").sudo().write(
            {"state": "stopped", "stopped_with_parent": False}
        )
        return True

    def action_run_manually(self):
        """Run now: ask for the period first when the integration runs over a period."""
        self.ensure_one()
        self._check_can_operate()
        if not self.is_manually_runnable:
            raise UserError(_("'%(name)s' cannot be run manually.", name=self.name))
        self._check_not_running()
        if self.has_time_period or self.has_dry_run:
            return {
                "type": "ir.actions.act_window",
                "res_model": "ihub.run.wizard",
                "views": [(False, "form")],
                "target": "new",
                "name": _("Run %(name)s", name=self.name),
                "context": {"default_integration_id": self.id},
            }
        self._run_manually(None, fields.Datetime.now())
        return self._notify_queued()

    def _run_manually(
        self, date_from, date_to, dry_run=False, allow_overlap=False, trigger="manual"
    ):
        """Queue a manual run over [date_from, date_to); it does not move the schedule.

        The one place every manual run is queued (Run Manually, its wizard, the REST API,
        which passes ``trigger="api"`` so the Runs list tells the two apart). It
        refuses a period entirely in the future, a run exactly like one already queued, and,
        unless ``allow_overlap``, a period overlapping a queued run's (the wizard warns about
        it first; see ``_manual_run_overlaps``). A dry run (types with ``has_dry_run``) reports
        what it would do and writes nothing. Returns the queued ``ihub.job``.
        """
        self.ensure_one()
        self._check_can_operate()
        if not self.is_manually_runnable:
            raise UserError(_("'%(name)s' cannot be run manually.", name=self.name))
        self._check_not_running()
        if dry_run and not self.has_dry_run:
            raise UserError(_("'%(name)s' cannot run dry.", name=self.name))
        if date_from and date_to and date_from > date_to:
            raise UserError(_("The period must end after it starts."))
        now = fields.Datetime.now()
        if date_from and date_from >= now:
            raise UserError(
                _(
                    "The period starts at %(start)s, which is still to come: there is nothing "
                    "to run over yet. Choose a period that has begun.",
                    start=self._ihub_format_time(date_from, zone=False),
                )
            )
        same = [("dry_run", "=", dry_run)]
        if self.has_time_period:
            same += [("date_from", "=", date_from or False), ("date_to", "=", date_to or False)]
        if self._queued_manual_runs(same, limit=1):
            raise UserError(
                _(
                    "A run of '%(name)s' over this period is already waiting to start: it "
                    "would do the same work twice.",
                    name=self.name,
                )
            )
        if not allow_overlap:
            overlaps = self._manual_run_overlaps(date_from, date_to)
            if overlaps:
                raise UserError(self._overlap_message(overlaps))
        return self.env["ihub.job"]._enqueue(
            self, trigger, date_from=date_from, date_to=date_to, priority=5, dry_run=dry_run
        )

    def _queued_manual_runs(self, domain, limit=None):
        # Searched, not filtered in Python: queueing stays cheap with many runs waiting.
        return (
            self.env["ihub.job"]
            .sudo()
            .search(
                [
                    ("integration_id", "=", self.id),
                    ("state", "=", "pending"),
                    ("advances_watermark", "=", False),
                    *domain,
                ],
                limit=limit,
            )
        )

    def _manual_run_overlaps(self, date_from, date_to, limit=3):
        """Up to ``limit`` queued runs whose period overlaps [date_from, date_to)."""
        self.ensure_one()
        if not self.has_time_period:
            return self.env["ihub.job"]
        domain = []
        if date_from:
            domain += ["|", ("date_to", "=", False), ("date_to", ">", date_from)]
        if date_to:
            domain += ["|", ("date_from", "=", False), ("date_from", "<", date_to)]
        return self._queued_manual_runs(domain, limit=limit)

    def _overlap_message(self, overlaps):
        # Read at once by the user, beside the period's fields: their zone, not named.
        periods = ", ".join(
            self._ihub_format_period(job.date_from, job.date_to, zone=False) for job in overlaps
        )
        return _(
            "A run of '%(name)s' waiting to start covers part of this period (%(periods)s): "
            "both runs would handle the records of the common part.",
            name=self.name,
            periods=periods,
        )

    def _check_not_running(self):
        if (
            self.env["ihub.job"]
            .sudo()
            .search_count(
                [
                    ("integration_id", "=", self.id),
                    ("state", "=", "running"),
                    ("lane", "=", "main"),
                ],
                limit=1,
            )
        ):
            raise UserError(
                _("'%(name)s' is running now. Try again when this run is over.", name=self.name)
            )

    def _notify_queued(self):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": _("The run starts in a moment. Follow it on the Runs page."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def run_children(self, date_from, date_to):
        """Queue a run of each active child integration over the same period (fan-out).

        Call it from a parent's ``run_from_to``; the children's runs are linked to the
        parent's run and execute in parallel with each other, each on its own lock.
        """
        self._check_can_operate()
        jobs = self.env["ihub.job"]
        parent_job = jobs.browse(run_progress.running_job_id(self.id))
        for child in self.sudo().child_ids.filtered("active"):
            jobs |= self.env["ihub.job"]._enqueue(
                child,
                "fanout",
                date_from=date_from,
                date_to=date_to,
                parent_job_id=parent_job.id,
            )
        return jobs

    def action_open_settings(self):
        self.ensure_one()
        return self.sub_id.open_settings()

    def action_open_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ihub.ihub_log_action")
        action["context"] = {"search_default_integration_id": self.id}
        return action

    def action_open_jobs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ihub.ihub_job_action")
        action["context"] = {"search_default_integration_id": self.id}
        return action

    def _check_can_operate(self):
        """iHub users may start, stop and run integrations they can see, not configure them."""
        if self.env.su:
            return
        if not self.env.user.has_group("ihub.group_ihub_user"):
            raise AccessError(_("Only iHub users can operate integrations."))
        self.check_access("read")

    # ---- Action dates

    def get_action_date(self, key):
        """Return the ``ihub.action.date`` named ``key`` of this integration, creating it empty.

        Its runs (and managers) may create and move it; other iHub users only read it.
        """
        self.ensure_one()
        if not self.env.su:
            self.check_access("read")
            ActionDate = self.env["ihub.action.date"]
            if not (run_progress.executing(self.id) or ActionDate.has_access("create")):
                existing = ActionDate.search(
                    [("integration_id", "=", self.id), ("key", "=", key)], limit=1
                )
                if existing:
                    return existing
                raise AccessError(
                    _("Only the integration's runs and iHub managers record action dates.")
                )
        return self.env["ihub.action.date"]._get_or_create(self, key)
