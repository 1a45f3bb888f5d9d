from datetime import timedelta

from odoo import api, fields, models

# System parameter: days API calls are kept for audit (default below).
RETENTION_PARAM = "ihub.api_call_retention_days"
RETENTION_DAYS = 90


class IHubApiCall(models.Model):
    """One call of iHub's REST API, for audit: who called what, and how it was answered.

    Written by the API controller for every call, refused ones included (then the user may be
    unknown); never edited. Kept ``ihub.api_call_retention_days`` days (default 90; 0: forever).
    """

    _name = "ihub.api.call"
    _description = "iHub API Call"
    _order = "date desc, id desc"
    _rec_name = "path"
    _log_access = False

    date = fields.Datetime(default=fields.Datetime.now, required=True, index=True, readonly=True)
    user_id = fields.Many2one(
        "res.users",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The user of the API key; empty when the key was missing or refused.",
    )
    key_name = fields.Char(string="API Key", readonly=True, help="The name of the key used.")
    method = fields.Char(readonly=True)
    path = fields.Char(readonly=True)
    query = fields.Char(readonly=True)
    status = fields.Integer(readonly=True, index=True)
    error_code = fields.Char(readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    remote_addr = fields.Char(string="Client Address", readonly=True)

    @api.model
    def _ihub_record(self, values):
        """Write one audit row (the controller calls it as superuser, whoever called)."""
        for name, size in (("path", 512), ("query", 1024), ("key_name", 128)):
            if values.get(name):
                values[name] = values[name][:size]
        return self.sudo().create(values)

    @api.autovacuum
    def _gc_api_calls(self):
        days = int(
            self.env["ir.config_parameter"].sudo().get_param(RETENTION_PARAM, RETENTION_DAYS)
        )
        if days > 0:  # 0 keeps them forever, as for events and runs
            limit = fields.Datetime.now() - timedelta(days=days)
            self.flush_model(["date"])
            self.env.cr.execute("DELETE FROM ihub_api_call WHERE date < %s", (limit,))
            self.invalidate_model()
