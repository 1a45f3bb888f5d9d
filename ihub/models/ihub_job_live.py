import time

from odoo import api, models

from odoo.addons.ihub.lib.health import progress_update_due

# Bus notification type the web client listens to (static/src/live/ihub_live_service.js).
LIVE_TYPE = "ihub.run"
# Job fields whose change the screens show: a new state, or progress counts.
STATE_FIELDS = frozenset({"state"})
PROGRESS_FIELDS = frozenset({"processed_count", "succeeded_count", "failed_count"})
# When a running run last told the screens about its progress, per job id (this process).
_progress_sent = {}


class IHubJob(models.Model):
    """Runs tell the screens that show them when they are queued, start, progress and end.

    Each transaction that changes runs sends, when it commits, one bus message per iHub user
    who has Odoo open and may see the integrations concerned (nothing to anyone else); the
    dashboard, the forms and the Runs list reload what changed. A rolled-back transaction
    sends nothing.
    """

    _inherit = "ihub.job"

    def init(self):
        result = super().init()
        # The dashboard's health figures: last success, failures since, runs in the last
        # 24 hours, a waiting run. Each reads a few index entries of one integration.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS ihub_job_integration_done_index
                ON ihub_job (integration_id, ended_at DESC, id DESC) WHERE state = 'done';
            CREATE INDEX IF NOT EXISTS ihub_job_integration_failed_index
                ON ihub_job (integration_id, id) WHERE state = 'failed';
            CREATE INDEX IF NOT EXISTS ihub_job_integration_queued_index
                ON ihub_job (integration_id, queued_at DESC);
            CREATE INDEX IF NOT EXISTS ihub_job_pending_integration_index
                ON ihub_job (integration_id) WHERE state = 'pending';
            """
        )
        return result

    @api.model_create_multi
    def create(self, vals_list):
        jobs = super().create(vals_list)
        # A webhook or delivery batch is queued at nearly every push or captured change, and
        # started at once: the screens hear of it when it starts, and a push is answered
        # without a notification (a new connection) per user.
        jobs.filtered(lambda job: job.lane == "main")._ihub_live_changed()
        return jobs

    def write(self, vals):
        result = super().write(vals)
        if STATE_FIELDS & set(vals):
            for job in self:
                _progress_sent.pop(job.id, None)
            self._ihub_live_changed()
        elif PROGRESS_FIELDS & set(vals):
            now = time.time()
            due = self.filtered(lambda job: progress_update_due(_progress_sent.get(job.id), now))
            for job in due:
                _progress_sent[job.id] = now
            due._ihub_live_changed()
        return result

    def unlink(self):
        # Screens that show these runs drop them (e.g. an empty webhook batch, see _record).
        self._ihub_live_changed()
        return super().unlink()

    def _record_success(self, progress):
        result = super()._record_success(progress)
        self.integration_id.filtered("stale_alert")._close_stale_alert()
        return result

    def _ihub_live_changed(self):
        """Have these runs' changes announced when the transaction commits."""
        if not self:
            return
        self._ihub_live_queue([(job.integration_id.id, job.id) for job in self.sudo()])

    @api.model
    def _ihub_live_queue(self, changes):
        """Remember ``(integration id, job id or None)`` changes; announce them at commit."""
        precommit = self.env.cr.precommit
        key = "ihub.live"
        if key not in precommit.data:
            precommit.data[key] = {}
            env = self.sudo().env

            @precommit.add
            def announce():
                env["ihub.job"]._ihub_live_send(precommit.data.pop(key, {}))

        queued = precommit.data[key]
        for integration_id, job_id in changes:
            jobs = queued.setdefault(integration_id, set())
            if job_id:
                jobs.add(job_id)

    @api.model
    def _ihub_live_send(self, changes):
        """Send each iHub user who may read some of ``changes``' integrations what changed."""
        # Only users with Odoo open (the bus's presence of their browser): a message costs a
        # NOTIFY on a new PostgreSQL connection, at every run's start and end, and a screen
        # opened later loads the runs as they are. Mostly nobody is: one statement then.
        group_id = self.env["ir.model.data"]._xmlid_to_res_id("ihub.group_ihub_user")
        self.env.cr.execute(
            """
            SELECT presence.user_id
              FROM bus_presence presence
              JOIN res_groups_users_rel member
                ON member.uid = presence.user_id AND member.gid = %s
              JOIN res_users users ON users.id = presence.user_id
             WHERE presence.status IN ('online', 'away')
               AND users.active AND NOT users.share
            """,
            [group_id],
        )
        connected = [row[0] for row in self.env.cr.fetchall()]
        if not connected:
            return
        integrations = self.env["ihub.integration"].sudo().browse(list(changes)).exists()
        for user in self.env["res.users"].sudo().browse(connected):
            # The user's own rights, in all their companies: what their screens could show.
            visible = integrations.with_env(self.env(user=user.id, su=False, context={}))
            visible = visible._filtered_access("read")
            if not visible:
                continue
            self.env["bus.bus"].sudo()._sendone(
                user.partner_id,
                LIVE_TYPE,
                {
                    "integration_ids": visible.ids,
                    "job_ids": sorted(j for i in visible.ids for j in changes[i]),
                },
            )
