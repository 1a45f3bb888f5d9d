from odoo import fields, models


class IHubHttpExchange(models.Model):
    """One HTTP request a run made through ``ihub_http()`` and what came back.

    Kept with the run (deleted with it): what an integration said to the other system is the
    first thing to look at when a run fails. URLs and errors are redacted; bodies are kept only
    while the integration's "Record Request Bodies" switch is on.
    """

    _name = "ihub.http.exchange"
    _description = "iHub HTTP Exchange"
    _order = "id desc"
    _log_access = False

    job_id = fields.Many2one(
        "ihub.job", string="Run", required=True, index=True, ondelete="cascade"
    )
    integration_id = fields.Many2one(
        "ihub.integration", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="integration_id.company_id")
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    method = fields.Char(required=True)
    url = fields.Char(string="URL", required=True)
    status = fields.Integer(help="The HTTP status of the answer; 0 when none came.")
    duration_ms = fields.Integer(string="Duration (ms)")
    request_bytes = fields.Integer(string="Sent (bytes)")
    response_bytes = fields.Integer(string="Received (bytes)")
    error = fields.Char()
    request_body = fields.Text()
    response_body = fields.Text()

    def _ihub_store(self, job, exchanges):
        """Write the exchanges a run recorded in memory (see ``ihub.job._flush_exchanges``)."""
        if not exchanges:
            return self.browse()
        rows = [
            {
                "job_id": job.id,
                "integration_id": job.integration_id.id,
                "date": exchange.get("date") or fields.Datetime.now(),
                "method": exchange.get("method") or "?",
                "url": (exchange.get("url") or "?")[:2000],
                "status": exchange.get("status") or 0,
                "duration_ms": round(exchange.get("duration_ms") or 0),
                "request_bytes": exchange.get("request_bytes") or 0,
                "response_bytes": exchange.get("response_bytes") or 0,
                "error": (exchange.get("error") or "")[:500] or False,
                "request_body": exchange.get("request_body") or False,
                "response_body": exchange.get("response_body") or False,
            }
            for exchange in exchanges
        ]
        return self.sudo().create(rows)
