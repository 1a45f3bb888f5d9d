from datetime import timedelta

from odoo import fields, models

from odoo.addons.ihub.lib.api import Endpoint, Param

SETTINGS = {
    "type": "object",
    "properties": {"a_custom_field": {"type": ["string", "null"]}},
}


class DemoIntegration(models.Model):
    """An integration that does nothing but log what it is asked to do.

    It is the example of ``ihub.abstract_integration``'s docstring: copy this addon to start a
    new integration.
    """

    _name = "ihub.integration.demo"
    _inherit = "ihub.abstract_integration"
    _description = "Demo Integration"

    # Can be started: runs on a schedule.
    is_job = True
    # Shows "Run manually".
    is_manually_runnable = True
    # "Run manually" asks for the period to run over.
    has_time_period = True
    # False: the user picks the company the integration runs in.
    is_multi_company_compatible = False
    # True would allow a single demo integration per company.
    is_singleton = False
    # True would offer a dry run in Run Manually (for data moved with ihub_import).
    has_dry_run = False
    # Has a push URL: signed webhooks sent there are passed to hook().
    accepts_webhooks = True
    # A scheduled run covers the time up to 10 seconds ago.
    delay = timedelta(seconds=10)
    description = (
        "<p>A <b>demo</b> integration without functionality: each run only logs "
        "the period it was asked to cover. Use it to see how integrations are "
        "started, run and watched.</p>"
    )

    # Operations it adds to iHub's REST API, for demo integrations only:
    # /ihub/api/v1/integrations/<id>/demo/settings (see the guide).
    api_endpoints = (
        Endpoint("GET", "settings", "_api_settings", "Read the setting", schema=SETTINGS),
        Endpoint(
            "POST",
            "settings",
            "_api_write_settings",
            "Change the setting",
            body=(Param("a_custom_field", required=True, max_length=100),),
            schema=SETTINGS,
        ),
    )

    a_custom_field = fields.Char(
        string="Custom Field",
        help="An example setting that only this kind of integration has.",
    )
    fail_run = fields.Boolean(
        string="Fail Runs", help="Make every run fail, to see how a failure looks."
    )

    def run_from_to(self, _from, _to):
        """Log the period this run covers; fail instead when "Fail Runs" is set."""
        self.ensure_one()
        # Times in a text are for people: in the run user's time zone, and say which.
        period = self._ihub_format_period(_from, _to)
        if self.fail_run:
            self.ihub_error(
                f"Demo run {period} failed because 'Fail Runs' is set",
                raise_exception=True,
            )
        self.ihub_info(
            f"Demo run {period}: integration just for demonstration",
            details={"from": _from, "to": _to, "custom_field": self.a_custom_field},
        )

    def _api_settings(self):
        """GET .../demo/settings: the demo's own setting."""
        return {"a_custom_field": self.a_custom_field or None}

    def _api_write_settings(self, a_custom_field):
        """POST .../demo/settings: runs as the API key's user, so iHub users get a 403."""
        self.a_custom_field = a_custom_field
        return self._api_settings()

    def hook(self, event):
        """Log each webhook pushed to the integration's URL (see its Webhooks tab)."""
        self.ensure_one()
        self.ihub_info(
            f"Demo webhook {event.event_type or 'without type'} received",
            details={"delivery_id": event.delivery_id, "payload": event.payload},
        )

    def _cron_log_heartbeat(self):
        """Shipped cron (inactive by default): log that each active demo integration is alive."""
        for demo in self.search([("state", "=", "active")]):
            demo.ihub_info("Demo heartbeat")
