import logging

from odoo import api, fields, models

from odoo.addons.ihub.lib import journal
from odoo.addons.ihub.lib.events import LEVELS

_logger = logging.getLogger(__name__)


class IHubLog(models.Model):
    """One event of an integration: what happened, how bad it was, and what it concerned.

    Events are written by ``ihub_info``/``ihub_warning``/``ihub_error`` (see ``models/base.py``),
    never edited afterwards. They survive the rollback of the transaction that wrote them
    (``lib/journal.py``).
    """

    _name = "ihub.log"
    _description = "iHub Event"
    _order = "date desc, id desc"
    _rec_name = "summary"

    date = fields.Datetime(default=fields.Datetime.now, required=True, index=True, readonly=True)
    level = fields.Selection(
        [(level, level.capitalize()) for level in LEVELS],
        required=True,
        default="info",
        index=True,
        readonly=True,
    )
    summary = fields.Char(required=True, readonly=True)
    details = fields.Text(readonly=True, help="Full information: a message, data sent or received.")
    integration_id = fields.Many2one(
        "ihub.integration", ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(
        related="integration_id.company_id", store=True, index=True, readonly=True
    )
    res_model = fields.Char(string="Related Model", readonly=True, index=True)
    res_id = fields.Many2oneReference(
        string="Related Record ID", model_field="res_model", readonly=True
    )
    related_record = fields.Reference(
        selection="_selection_related_record",
        compute="_compute_related_record",
        string="Related Record",
        help="The record this event is about. Click to open it.",
    )
    user_id = fields.Many2one(
        "res.users", string="User", readonly=True, help="Who was acting when this happened."
    )
    job_id = fields.Many2one(
        "ihub.job",
        string="Run",
        ondelete="cascade",
        index="btree_not_null",
        readonly=True,
        help="The run during which this happened.",
    )

    @api.model
    def _selection_related_record(self):
        return [(model.model, model.name) for model in self.env["ir.model"].sudo().search([])]

    @api.depends("res_model", "res_id")
    def _compute_related_record(self):
        for log in self:
            if log.res_model in self.env and log.res_id:
                log.related_record = f"{log.res_model},{log.res_id}"
            else:
                log.related_record = False

    def action_open_related_record(self):
        self.ensure_one()
        if not self.related_record:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "views": [(False, "form")],
            "target": "current",
        }

    def init(self):
        # The dashboard and the integration form read an integration's latest events and its
        # latest error: with these, their cost does not grow with the history.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS ihub_log_integration_date_index
                ON ihub_log (integration_id, date DESC, id DESC);
            CREATE INDEX IF NOT EXISTS ihub_log_integration_error_date_index
                ON ihub_log (integration_id, date DESC) WHERE level = 'error';
            """
        )

    def unlink(self):
        journal.discard(self.env.cr, self.ids)
        return super().unlink()

    # ---- Writing events

    @api.model
    def _record_event(self, vals):
        """Create the event ``vals`` and make it outlive a rollback of this transaction.

        ``vals`` holds plain column values (ids, not records) and an explicit ``date``.
        """
        log = self.sudo().create(vals)
        row = {
            "id": log.id,
            "date": vals["date"],
            "level": vals["level"],
            "summary": vals["summary"],
            "details": vals.get("details") or None,
            "integration_id": vals.get("integration_id") or None,
            "res_model": vals.get("res_model") or None,
            "res_id": vals.get("res_id") or None,
            "user_id": vals.get("user_id") or None,
            "job_id": vals.get("job_id") or None,
        }
        registry = self.env.registry
        journal.remember(
            self.env.cr,
            log.id,
            row,
            restore=_restore_missing,
            replay=lambda rows, only_missing: _replay(registry, rows, only_missing),
        )
        return log

    @api.model
    def _restore_rolled_back_events(self):
        """Bring back now the events a rolled-back savepoint removed from this transaction.

        They come back by themselves at commit. Tests that catch an exception (Odoo's
        ``assertRaises`` runs its block in a savepoint) call this before reading events.
        """
        journal.restore_now(self.env.cr)
        self.invalidate_model()


# The journal's writers use SQL: they run inside cursor callbacks, where the ORM may no longer
# flush (pre-commit) or has no environment left (after a rollback).

_INSERT = """
    INSERT INTO ihub_log (id, date, level, summary, details, integration_id, company_id,
                          res_model, res_id, user_id, job_id, create_uid, create_date,
                          write_uid, write_date)
    SELECT %(id)s, %(date)s, %(level)s, %(summary)s, %(details)s, integration.id,
           integration.company_id, %(res_model)s, %(res_id)s, users.id, job.id, users.id,
           now() at time zone 'UTC', users.id, now() at time zone 'UTC'
      FROM (SELECT 1) AS one
      LEFT JOIN ihub_integration integration ON integration.id = %(integration_id)s
      LEFT JOIN res_users users ON users.id = %(user_id)s
      LEFT JOIN ihub_job job ON job.id = %(job_id)s
     -- An event whose integration or run is gone was deleted with it: it stays deleted.
     WHERE (%(integration_id)s IS NULL OR integration.id IS NOT NULL)
       AND (%(job_id)s IS NULL OR job.id IS NOT NULL)
    ON CONFLICT (id) DO NOTHING
"""


def _missing(cr, rows):
    cr.execute("SELECT id FROM ihub_log WHERE id = ANY(%s)", [[row["id"] for row in rows]])
    present = {row_id for (row_id,) in cr.fetchall()}
    return [row for row in rows if row["id"] not in present]


def _restore_missing(cr, rows):
    for row in _missing(cr, rows):
        cr.execute(_INSERT, row)


def _replay(registry, rows, only_missing):
    """Write ``rows`` again through a new transaction (those of deleted integrations excepted)."""
    try:
        with registry.cursor() as cr:
            for row in _missing(cr, rows) if only_missing else rows:
                cr.execute(_INSERT, row)
    except Exception:
        # Callbacks must not raise: the rollback that called us is already handling an error.
        _logger.exception("iHub could not write back %d event(s) after a rollback", len(rows))
