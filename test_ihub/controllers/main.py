"""A test-only route: run the queued runs now, for browser tours.

Tests have no cron threads, so nothing would run the runs a tour queues. This addon is
installed in test databases only, and the route answers only while the registry is in test
mode.
"""

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.http import request

from odoo.addons.bus.models.bus import dispatch, hashable


class TestIHubController(http.Controller):
    @http.route("/test_ihub/run_due_jobs", type="json", auth="user")
    def run_due_jobs(self, scheduled=False):
        """Run the queued runs; with ``scheduled``, first what Odoo's scheduler would: the
        integration crons that were triggered (Start triggers one) queue their scheduled run."""
        if not request.registry.in_test_mode():
            raise NotFound()
        if scheduled:
            self._run_triggered_schedules()
        # What the runner cron does (ihub.tests.common.run_due_jobs, not imported here: the
        # test framework is not for addons' runtime code).
        Job = request.env["ihub.job"].sudo()
        Job._cron_run_due_jobs()
        # A test cursor never runs post-commit hooks, so the bus's NOTIFY never comes: write
        # the bus messages now and wake the websockets that listen to them, as the NOTIFY
        # would (they read the messages once this request releases the test cursor).
        cr = request.env.cr
        cr.precommit.run()
        channels = cr.postcommit.data.get("bus.bus.channels", ())
        websockets = set()
        for channel in channels:
            websockets.update(dispatch._channels_to_ws.get(hashable(channel), ()))
        for websocket in websockets:
            websocket.trigger_notification_dispatching()
        return True

    def _run_triggered_schedules(self):
        env = request.env(su=True)
        Integration = env["ihub.integration"]
        integrations = Integration.search([("state", "=", "active"), ("cron_id", "!=", False)])
        triggers = env["ir.cron.trigger"].search(
            [("cron_id", "in", integrations.cron_id.ids), ("call_at", "<=", fields.Datetime.now())]
        )
        for integration in integrations.filtered(lambda i: i.cron_id in triggers.cron_id):
            Integration._cron_run_scheduled(integration.id)
        triggers.unlink()
