"""Helpers for the tests of integration addons: ``from odoo.addons.ihub.tests.common import …``.

An integration's ``run_from_to`` only runs inside iHub's runner (it is guarded against direct
calls, see ``ihub.abstract_integration``). These helpers run it the way the runner does, inside
the test's transaction, so that a test sees the run's events, counts and effects::

    from odoo.addons.ihub.tests.common import run_integration

    job = run_integration(my_sub.super_id.with_user(ihub_user), date_from, date_to)
    self.assertEqual(job.state, "done")

Browser and HTTP tests derive from ``IHubHttpCase``; ``run_messages(env, user)`` lists the live
run messages a user's open screens were sent.
"""

import json

from odoo.tests import HttpCase

from odoo.addons.bus.models.bus import channel_with_db, json_dump
from odoo.addons.ihub.lib import journal


def run_due_jobs(env):
    """Run every due queued run now, in the test's transaction, as the job runner cron does.

    Returns the runs that ended (done or failed) during the call.
    """
    Job = env["ihub.job"].sudo()
    before = set(Job.search([("state", "in", ("done", "failed"))]).ids)
    Job._cron_run_due_jobs()
    ended = Job.search([("state", "in", ("done", "failed"))])
    return ended.filtered(lambda job: job.id not in before)


def run_integration(integration, date_from=None, date_to=None):
    """Queue a manual run of ``integration`` (as its env's user) and run it; return the run.

    ``integration`` is the super (``ihub.integration``) or its sub-record. The run's period is
    ``[date_from, date_to)``; ``date_to`` defaults to now.
    """
    integration = integration.super_id if "super_id" in integration._fields else integration
    job = integration._run_manually(date_from, date_to or integration.env.cr.now())
    run_due_jobs(integration.env)
    return job


def forget_events(cr):
    """Drop the events a test transaction wrote from the rollback journal (call at cleanup).

    Events outlive rollbacks; a test's transaction is rolled back on purpose, and its events
    should go with it.
    """
    journal.forget(cr)


def run_messages(env, user):
    """The payloads of the live run messages (bus type ``ihub.run``) sent to ``user``, oldest
    first; they are written at commit (in a test: ``env.cr.precommit.run()``)."""
    channel = json_dump(channel_with_db(env.cr.dbname, user.partner_id))
    rows = env["bus.bus"].sudo().search([("channel", "=", channel)], order="id")
    messages = (json.loads(row.message) for row in rows)
    return [message["payload"] for message in messages if message["type"] == "ihub.run"]


class IHubHttpCase(HttpCase):
    """``HttpCase`` for iHub: the events its class transaction wrote go with that transaction
    (see ``forget_events``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(journal.forget, cls.cr)
