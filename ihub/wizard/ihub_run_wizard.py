from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class IHubRunWizard(models.TransientModel):
    """Asks for the period of a manual run."""

    _name = "ihub.run.wizard"
    _description = "Run an Integration Manually"

    integration_id = fields.Many2one("ihub.integration", required=True, ondelete="cascade")
    date_from = fields.Datetime(
        string="From", required=True, help="Start of the period to run over (included)."
    )
    date_to = fields.Datetime(
        string="To", required=True, help="End of the period to run over (excluded)."
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
        for wizard in self:
            if wizard.date_from >= wizard.date_to:
                raise UserError(_("The period must end after it starts."))

    def action_run(self):
        self.ensure_one()
        self.integration_id._run_manually(self.date_from, self.date_to)
        return self.integration_id._notify_queued()
