from datetime import timedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError

from odoo.addons.ihub.lib.exceptions import IHubPermanentError
from odoo.addons.ihub.lib.schedule import interval_delta, scheduled_window

from .ihub_integration import WATERMARK_KEY


class IHubIntegration(models.Model):
    """The schedule of an integration (its own cron, the period each scheduled run covers,
    its watermark) and whom its runs execute as."""

    _inherit = "ihub.integration"

    def _ensure_cron(self, active):
        """Create or update this integration's own scheduled action."""
        self.ensure_one()
        values = {
            "name": _("iHub: %(name)s", name=self.name),
            "interval_number": self.interval_number,
            "interval_type": self.interval_type,
            # The cron only queues runs (see _cron_run_scheduled); each run then executes as
            # the integration's run user.
            "user_id": SUPERUSER_ID,
            "active": active,
        }
        if self.cron_id:
            if active and not self.cron_id.active:
                values["nextcall"] = fields.Datetime.now()
            self.cron_id._ihub_wait_unlocked()
            self.cron_id.write(values)
        else:
            self.cron_id = self.env["ir.cron"].create(
                {
                    **values,
                    "model_id": self.env["ir.model"]._get_id("ihub.integration"),
                    "state": "code",
                    "code": f"model._cron_run_scheduled({self.id})",
                    "nextcall": max(
                        self.start_date or fields.Datetime.now(), fields.Datetime.now()
                    ),
                }
            )

    @api.model
    def _cron_run_scheduled(self, integration_id):
        """The integration's cron: queue its scheduled run for the job runner.

        It only queues and wakes the runner, so the cron's own row (which Odoo's scheduler
        locks while the cron executes) is locked for milliseconds: editing, stopping or
        running the integration by hand never waits for a run.
        """
        integration = self.sudo().browse(integration_id).exists()
        if not integration or integration.state != "active":
            return
        Job = self.env["ihub.job"].sudo()
        waiting = Job.search(
            [
                ("integration_id", "=", integration.id),
                ("advances_watermark", "=", True),
                ("state", "in", ("pending", "running")),
            ],
            limit=1,
        )
        if waiting:
            # The waiting run (or its retry) will cover this period too.
            return
        Job._enqueue(integration, "scheduled", advances_watermark=True)

    def _scheduled_window(self, now):
        """Return the (from, to) period the next scheduled run covers, or None if empty."""
        self.ensure_one()
        sub_class = self.env.registry[self.model_name]
        watermark = self.sudo().get_action_date(WATERMARK_KEY).date
        return scheduled_window(
            now,
            watermark,
            self.start_date,
            interval_delta(self.interval_number, self.interval_type),
            sub_class.delay,
            timedelta(minutes=self.overlap_minutes),
        )

    def _move_watermark(self, date_to):
        self.sudo().get_action_date(WATERMARK_KEY).date = date_to

    def _fail_after_runs(self, reason):
        """The last attempt of a scheduled run failed: fail the integration (its run recorded
        the error event already)."""
        self.ensure_one()
        self._fail(reason, log_event=False)

    @api.model
    def _default_run_user(self):
        user = self.env.user
        if self.env.su or self._run_user_problem(user):
            return False
        return user

    @api.model
    def _run_user_domain(self):
        ihub_users = self.env.ref("ihub.group_ihub_user")
        return [("share", "=", False), ("groups_id", "in", ihub_users.ids)]

    def _effective_run_user(self):
        return self.run_user_id or self.user_id

    @api.model
    def _run_user_problem(self, user):
        """Why ``user`` may not run integrations, or None."""
        if user.id == SUPERUSER_ID or user._is_superuser():
            return _("Integrations never run as the superuser: choose an iHub user.")
        if not user.active:
            return _("%(user)s is archived: choose an active iHub user.", user=user.name)
        if user.share:
            return _("%(user)s is a portal user: choose an iHub user.", user=user.name)
        if not user.has_group("ihub.group_ihub_user"):
            return _(
                "%(user)s is not an iHub user: runs need someone who may use iHub.",
                user=user.name,
            )
        return None

    def _check_run_user_choice(self):
        """Only settings administrators make integrations run as someone else."""
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        for integration in self:
            user = integration._effective_run_user()
            if user and user != self.env.user:
                raise AccessError(
                    _(
                        "Only settings administrators can make '%(name)s' run as another user "
                        "(%(user)s). Choose yourself as Run As user, or ask an administrator.",
                        name=integration.name,
                        user=user.name,
                    )
                )

    def _run_user(self):
        """The user runs execute as, checked now (rights change after it was chosen)."""
        user = self.sudo()._effective_run_user()
        if not user:
            raise IHubPermanentError(
                _(
                    "Integration '%(name)s' has no responsible user: set one (or a Run As user) "
                    "so that its runs have someone's access rights.",
                    name=self.name,
                )
            )
        problem = self._run_user_problem(user)
        if problem:
            raise IHubPermanentError(
                _("'%(name)s' cannot run: %(problem)s", name=self.name, problem=problem)
            )
        return user

    def _run_environment(self, job):
        """This integration as its run sees it: run user, company, and run context."""
        self.ensure_one()
        user = self._run_user()
        company = self.company_id or user.company_id
        # Odoo's cached list of the user's active companies: no read of res.company per run.
        if company.id not in user._get_company_ids():
            raise IHubPermanentError(
                _(
                    "%(user)s, who runs this integration, is not allowed in %(company)s.",
                    user=user.name,
                    company=company.name,
                )
            )
        return self.with_user(user).with_company(company).with_context(integration_id=self.id)

    def _run_sub(self, job):
        """The sub-record ``job`` calls, in the run's environment (``_run_environment``).

        An integration's sub-record never changes (they are created and deleted together):
        its id is looked up once per registry, not at every run. The run user must be able to
        read it (access rights and record rules), checked here once per run: the contract
        methods' guard does not read it.
        """
        integration = self._run_environment(job)
        sub = integration.env[self.model_name].browse(self._ihub_sub_id())
        sub.check_access("read")
        return sub

    def _ihub_sub_id(self):
        """The id of this integration's sub-record, looked up once per registry: it never
        changes. No access check: browse it in the environment that will read it."""
        self.ensure_one()
        known = self.env.registry.__dict__.setdefault("_ihub_sub_ids", {})
        key = (self.id, self.model_name)
        if not known.get(key):
            known[key] = self.sudo().sub_id.id
        return known[key]
