from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class IHubRunWizard(models.TransientModel):
    """Asks for the period of a manual run."""

    _name = "ihub.run.wizard"
    _description = "Run an Integration Manually"

    integration_id = fields.Many2one("ihub.integration", required=True, ondelete="cascade")
    has_time_period = fields.Boolean(related="integration_id.has_time_period")
    has_dry_run = fields.Boolean(related="integration_id.has_dry_run")
    date_from = fields.Datetime(string="From", help="Start of the period to run over (included).")
    date_to = fields.Datetime(string="To", help="End of the period to run over (excluded).")
    dry_run = fields.Boolean(
        help="Report what the run would create, update and skip, and write nothing: check a "
        "new mapping before the first real run.",
    )
    overlap_warning = fields.Char(compute="_compute_overlap_warning")

    @api.depends("integration_id", "date_from", "date_to")
    def _compute_overlap_warning(self):
        for wizard in self:
            overlaps = (
                wizard.integration_id._manual_run_overlaps(wizard.date_from, wizard.date_to)
                if wizard.integration_id and wizard.has_time_period
                else None
            )
            wizard.overlap_warning = (
                wizard.integration_id._overlap_message(overlaps) if overlaps else False
            )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        now = fields.Datetime.now()
        values.setdefault("date_to", now)
        values.setdefault("date_from", now - timedelta(days=1))
        return values

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for wizard in self.filtered("has_time_period"):
            if not (wizard.date_from and wizard.date_to):
                raise UserError(_("Give the period to run over."))
            if wizard.date_from >= wizard.date_to:
                raise UserError(_("The period must end after it starts."))

    def action_run(self):
        self.ensure_one()
        # The rules (no exact duplicate, no future period) are the model's, shared with every
        # other way of queueing a manual run; an overlap was shown above, so the user chose it.
        if self.has_time_period:
            self.integration_id._run_manually(
                self.date_from, self.date_to, self.dry_run, allow_overlap=True
            )
        else:
            self.integration_id._run_manually(None, fields.Datetime.now(), self.dry_run)
        return self.integration_id._notify_queued()
