from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .ihub_integration_type import FLAGS

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
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True

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
        domain=[("share", "=", False)],
        help="Who is told when this integration fails.",
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
    log_count = fields.Integer(compute="_compute_log_summary", string="Event Count")
    last_log_id = fields.Many2one("ihub.log", compute="_compute_log_summary", string="Last Event")
    last_log_summary = fields.Char(compute="_compute_log_summary", string="Last Event Summary")
    last_log_level = fields.Selection(
        [("info", "Info"), ("warning", "Warning"), ("error", "Error")],
        compute="_compute_log_summary",
        string="Last Event Level",
    )
    last_log_date = fields.Datetime(compute="_compute_log_summary", string="Last Event Date")
    last_error_date = fields.Datetime(compute="_compute_log_summary", string="Last Error")

    # The sub-model's flags, readable here to show or hide buttons.
    is_job = fields.Boolean(related="type_id.is_job")
    is_manually_runnable = fields.Boolean(related="type_id.is_manually_runnable")
    has_time_period = fields.Boolean(related="type_id.has_time_period")
    is_multi_company_compatible = fields.Boolean(related="type_id.is_multi_company_compatible")
    is_singleton = fields.Boolean(related="type_id.is_singleton")

    # ---- Computes

    @api.depends("custom_image", "type_id")
    def _compute_image(self):
        for integration in self:
            integration.image = integration.custom_image or integration.type_id.icon

    def _inverse_image(self):
        for integration in self:
            integration.custom_image = integration.image

    def _compute_log_summary(self):
        stats = {}
        if self.ids:
            self.env["ihub.log"].flush_model()
            self.env.cr.execute(
                """
                SELECT integration_id, count(*),
                       (array_agg(id ORDER BY date DESC, id DESC))[1],
                       max(date) FILTER (WHERE level = 'error')
                  FROM ihub_log
                 WHERE integration_id = ANY(%s)
              GROUP BY integration_id
                """,
                [self.ids],
            )
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        last_logs = self.env["ihub.log"].sudo().browse(row[1] for row in stats.values())
        last_logs.fetch(["summary", "level", "date"])
        for integration in self:
            count, last_id, last_error = stats.get(integration.id, (0, False, False))
            last_log = last_logs.browse(last_id)
            integration.log_count = count
            integration.last_log_id = last_log
            integration.last_log_summary = last_log.summary
            integration.last_log_level = last_log.level
            integration.last_log_date = last_log.date
            integration.last_error_date = last_error

    # ---- Constraints

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
                        scope=""
                        if integration.is_multi_company_compatible
                        else _(" per company"),
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

    # ---- CRUD

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            integration_type = self.env["ihub.integration.type"].browse(vals.get("type_id"))
            if "company_id" not in vals and integration_type.is_multi_company_compatible:
                # Such an integration serves every company: it belongs to none.
                vals["company_id"] = False
        integrations = super().create(vals_list)
        if not self.env.context.get(CREATING_FROM_SUB):
            for integration in integrations:
                self.env[integration.model_name].create({"super_id": integration.id})
        return integrations

    def write(self, vals):
        if "type_id" in vals and any(i.type_id.id != vals["type_id"] for i in self):
            raise UserError(
                _("The type of an integration cannot be changed. Create a new integration.")
            )
        return super().write(vals)

    def unlink(self):
        for model_name, integrations in self.grouped("model_name").items():
            if model_name in self.env:
                integrations.sub_id.unlink()
        # Deleting a sub-record already deleted its integration: only the rest is left.
        return super(IHubIntegration, self.exists()).unlink()

    def copy(self, default=None):
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
            .search([("super_id", "in", self.ids)])
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
        for integration in self:
            integration.sudo().state = "failed"
            body = _("The integration failed and stopped.")
            if reason:
                body = _("The integration failed and stopped: %(reason)s", reason=reason)
            partners = integration.user_id.partner_id
            integration.sudo().message_post(
                body=body,
                partner_ids=partners.ids,
                message_type="notification",
                subtype_xmlid="mail.mt_comment",
            )
            integration.ihub_error(reason or _("Integration failed"), integration=integration)
        return True

    def action_start(self):
        """Start the integrations: they run on their schedule until stopped."""
        self._check_can_operate()
        for integration in self:
            if not integration.is_job:
                raise UserError(
                    _("'%(name)s' does not run on a schedule.", name=integration.name)
                )
        self.sudo().state = "active"
        return True

    def action_stop(self):
        """Stop the integrations: they no longer run on their own."""
        self._check_can_operate()
        self.sudo().state = "stopped"
        return True

    def action_reset(self):
        """Clear the failed state after the cause was fixed; the integration stays stopped."""
        self._check_can_operate()
        self.filtered(lambda i: i.state == "failed").sudo().state = "stopped"
        return True

    def action_run_manually(self):
        """Run now: ask for the period first when the integration runs over a period."""
        self.ensure_one()
        self._check_can_operate()
        if not self.is_manually_runnable:
            raise UserError(_("'%(name)s' cannot be run manually.", name=self.name))
        if self.has_time_period:
            return {
                "type": "ir.actions.act_window",
                "res_model": "ihub.run.wizard",
                "views": [(False, "form")],
                "target": "new",
                "name": _("Run %(name)s", name=self.name),
                "context": {"default_integration_id": self.id},
            }
        self._run_manually(None, fields.Datetime.now())
        return True

    def _run_manually(self, date_from, date_to):
        """Run the integration over [date_from, date_to) in its company, as the current user."""
        self.ensure_one()
        self._check_can_operate()
        sub = self.sub_id.with_company(self.company_id or self.env.company).with_context(
            integration_id=self.id
        )
        sub.run_from_to(date_from, date_to)

    def action_open_settings(self):
        self.ensure_one()
        return self.sub_id.open_settings()

    def action_open_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ihub.ihub_log_action")
        action["domain"] = [("integration_id", "=", self.id)]
        action["context"] = {"default_integration_id": self.id}
        return action

    def _check_can_operate(self):
        """iHub users may start, stop and run integrations they can see, not configure them."""
        self.check_access("read")
        if not self.env.user.has_group("ihub.group_ihub_user"):
            raise UserError(_("Only iHub users can operate integrations."))

    # ---- Action dates

    def get_action_date(self, key):
        """Return the ``ihub.action.date`` named ``key`` of this integration, creating it empty."""
        self.ensure_one()
        return self.env["ihub.action.date"]._get_or_create(self, key)
