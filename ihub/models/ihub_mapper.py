import logging

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL, create_index

from odoo.addons.ihub.lib import mapper as mapper_lib
from odoo.addons.ihub.lib import progress as run_progress

_logger = logging.getLogger(__name__)

# A statement trigger on a mapped model's table removes the bindings of the rows it deletes,
# whoever deletes them: the ORM, a foreign key's ON DELETE CASCADE, plain SQL.
FORGET_FUNCTION = "ihub_mapper_forget_deleted"
FORGET_TRIGGER = "ihub_mapper_forget_deleted"


class IHubMapper(models.Model):
    """Which record of the other system is which Odoo record, per integration.

    Integrations read and write these through ``integration.ihub_mapper(model)`` (see
    ``Mapper``); iHub users browse them from the integration form, managers may correct them.
    """

    _name = "ihub.mapper"
    _description = "Integration External ID"
    # Newest first, by primary key: sorting by integration would join ihub_integration for every
    # page of a list that can hold millions of rows.
    _order = "id desc"
    _rec_name = "external_id"

    integration_id = fields.Many2one(
        "ihub.integration", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True)
    res_model = fields.Char(string="Model", required=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", required=True)
    external_id = fields.Char(
        string="External ID", required=True, help="The record's id in the other system."
    )
    external_hash = fields.Char(
        help="Hash or ETag of the record's data as last synchronised, to skip unchanged records."
    )
    sync_date = fields.Datetime(
        string="Last Synchronised", help="When the integration last bound or updated this pair."
    )
    record_ref = fields.Reference(
        selection="_selection_record_ref",
        compute="_compute_record_ref",
        string="Record",
        help="The Odoo record. Empty when it was deleted.",
    )

    # Each unique index is also what its lookups read: the INCLUDE columns make the bulk calls
    # of Mapper index-only scans (external id -> record and record -> external id).
    _sql_constraints = [
        (
            "external_id_unique",
            "unique(integration_id, res_model, external_id) include (res_id, external_hash)",
            "An external id is bound to one record per model and integration.",
        ),
        (
            "record_unique",
            "unique(integration_id, res_model, res_id) include (external_id)",
            "A record is bound to one external id per integration.",
        ),
    ]

    def init(self):
        # What the delete trigger searches by: (integration, model, record) cannot serve it.
        create_index(
            self.env.cr, "ihub_mapper_res_model_res_id_index", self._table, ["res_model", "res_id"]
        )
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    DELETE FROM ihub_mapper m USING ihub_deleted d
                     WHERE m.res_model = TG_ARGV[0] AND m.res_id = d.id;
                    RETURN NULL;
                END $$
                """,
                SQL.identifier(FORGET_FUNCTION),
            )
        )

    @api.model
    def _selection_record_ref(self):
        return [(model.model, model.name) for model in self.env["ir.model"].sudo().search([])]

    @api.depends("res_model", "res_id")
    def _compute_record_ref(self):
        existing = {}
        for res_model, mappers in self.grouped("res_model").items():
            if res_model in self.env:
                ids = self.env[res_model].sudo().browse(mappers.mapped("res_id")).exists().ids
                existing[res_model] = set(ids)
        for mapper in self:
            if mapper.res_id in existing.get(mapper.res_model, ()):
                mapper.record_ref = f"{mapper.res_model},{mapper.res_id}"
            else:
                mapper.record_ref = False

    @api.constrains("res_model")
    def _check_res_model(self):
        for mapper in self:
            model = self.env.get(mapper.res_model)
            if model is None or model._abstract or model._transient:
                raise ValidationError(
                    _(
                        "%(model)s is not a model whose records can be mapped.",
                        model=mapper.res_model,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._super_integration_vals(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._super_integration_vals(vals)
        return super().write(vals)

    @api.model
    def _super_integration_vals(self, vals):
        # A sub-record has its own ids: given one, store the integration it belongs to.
        integration = vals.get("integration_id")
        if isinstance(integration, models.BaseModel):
            vals["integration_id"] = _to_super(integration).id

    def action_open_record(self):
        self.ensure_one()
        if not self.record_ref:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "views": [(False, "form")],
            "target": "current",
        }

    @api.model
    def _cron_remove_dead_mappings(self):
        """Remove the mappings whose Odoo record no longer exists.

        ``Mapper`` removes those it meets; this catches the others (records deleted and never
        looked up again), one model at a time.
        """
        self.flush_model()
        self.env.cr.execute("SELECT DISTINCT res_model FROM ihub_mapper")
        for (res_model,) in self.env.cr.fetchall():
            model = self.env.get(res_model)
            # A model whose addon is not loaded right now keeps its mappings.
            if model is None or model._abstract or not model._auto:
                continue
            model.flush_model()
            self.env.cr.execute(
                SQL(
                    """
                    DELETE FROM ihub_mapper m
                     WHERE m.res_model = %s
                       AND NOT EXISTS (SELECT 1 FROM %s r WHERE r.id = m.res_id)
                    """,
                    res_model,
                    SQL.identifier(model._table),
                )
            )
        self.invalidate_model()


def _ensure_forget_trigger(env, model):
    """Whether ``model``'s table has the trigger that removes the bindings of deleted rows;
    add it when missing. Returns False when it could not be added now.

    Creating a trigger locks the table against writes: it is done once per table, in a short
    transaction of its own that gives up after a moment rather than queue behind a long
    writer, and not when this transaction has written to the table (it would wait for
    itself). The bindings left by rows deleted before it existed go in the same transaction.
    """
    table = model._table
    cr = env.cr
    cr.execute(
        SQL(
            """
            SELECT EXISTS(SELECT 1 FROM pg_trigger
                           WHERE tgrelid = %s::regclass AND tgname = %s),
                   EXISTS(SELECT 1 FROM pg_locks
                           WHERE pid = pg_backend_pid() AND relation = %s::regclass
                             AND mode = 'RowExclusiveLock')
            """,
            table,
            FORGET_TRIGGER,
            table,
        )
    )
    exists, wrote_here = cr.fetchone()
    if exists:
        return True
    if wrote_here:
        return False
    try:
        with env.registry.cursor() as side:
            side.execute("SET LOCAL lock_timeout = '2s'")
            side.execute(
                SQL(
                    """
                    DO $$ BEGIN
                        CREATE TRIGGER %s AFTER DELETE ON %s
                            REFERENCING OLD TABLE AS ihub_deleted
                            FOR EACH STATEMENT EXECUTE FUNCTION %s(%s);
                    EXCEPTION WHEN duplicate_object THEN NULL;
                    END $$;
                    DELETE FROM ihub_mapper m
                     WHERE m.res_model = %s
                       AND NOT EXISTS (SELECT 1 FROM %s r WHERE r.id = m.res_id);
                    """,
                    SQL.identifier(FORGET_TRIGGER),
                    SQL.identifier(table),
                    SQL.identifier(FORGET_FUNCTION),
                    model._name,
                    model._name,
                    SQL.identifier(table),
                )
            )
    except psycopg2.errors.LockNotAvailable:
        _logger.info("%s is busy: external ids of %s are checked one by one for now", table, model)
        return False
    return True


def _to_super(integration):
    """The ``ihub.integration`` of ``integration`` (itself or a sub-record), in its env."""
    integration.ensure_one()
    if integration._name == "ihub.integration":
        return integration
    if integration._inherits.get("ihub.integration") == "super_id":
        return integration.super_id
    raise TypeError(f"expected an ihub.integration or one of its sub-records, not {integration!r}")


class Mapper:
    """The external ids of one Odoo model for one integration.

    Get one with ``integration.ihub_mapper("res.partner")`` (on the integration or its
    sub-record). External ids are strings (integers are converted); records come back in the
    caller's environment. Every bulk call is one SQL query whatever the number of ids, and a
    lookup costs one index probe per id whatever the size of the table. A mapping whose
    record is deleted resolves to nothing: a trigger on the model's table (added by the first
    Mapper of that model) removes it with the record. Until that trigger could be added (its
    table was locked), lookups check that each record exists instead and remove the bindings
    of deleted ones when met, or a daily scheduled action does.

    Reading needs read access to the integration. Writing (``bind``, ``bind_many``,
    ``unbind``) is for the integration's own runs (inside ``run_from_to``) and iHub managers.
    """

    def __init__(self, integration, model_name):
        integration = _to_super(integration)
        if model_name not in integration.env:
            raise ValueError(f"unknown model {model_name!r}")
        model = integration.env[model_name]
        if model._abstract or not model._auto:
            raise ValueError(f"{model_name} has no table of records to map")
        if not integration.env.su:
            integration.check_access("read")
        self.integration = integration
        # Read once here, so that the bulk calls below cost their one query from the start.
        self._company_id = integration.company_id.id or None
        self.model = model.browse()
        self.env = integration.env
        self._table = SQL.identifier(model._table)
        self._exact = _ensure_forget_trigger(self.env, model)

    def __repr__(self):
        return f"<Mapper {self.model._name} of ihub.integration({self.integration.id})>"

    # ---- Reading

    def record(self, external_id):
        """The record bound to ``external_id``, or an empty recordset."""
        external_id = mapper_lib.to_external_id(external_id)
        return self.records([external_id]).get(external_id, self.model)

    def records(self, external_ids):
        """``{external_id: record}`` for the ``external_ids`` that are bound (others are left
        out). One query."""
        rows = self._live_rows(external_ids, SQL("m.res_id"))
        records = self.model.browse([row[1] for row in rows])
        # Iterating the recordset gives records that prefetch together.
        return {row[0]: record for row, record in zip(rows, records, strict=True)}

    def hashes(self, external_ids):
        """``{external_id: hash}`` for the bound ``external_ids`` (hash None when none was
        stored). A mapping whose record was deleted is left out, so that "unchanged" never
        skips re-creating it. One query."""
        return dict(self._live_rows(external_ids, SQL("m.external_hash")))

    def external_id(self, record):
        """The external id bound to ``record`` (a record or an id), or None."""
        res_id = self._record_id(record)
        return self.external_ids([res_id]).get(res_id)

    def external_ids(self, records):
        """``{record id: external_id}`` for the bound ``records`` (a recordset or ids). One
        query."""
        if isinstance(records, models.BaseModel):
            self._check_model(records)
            res_ids = list(dict.fromkeys(records._ids))
        else:
            res_ids = list(dict.fromkeys(self._record_id(res_id) for res_id in records))
        if not res_ids:
            return {}
        self._flush()
        # One index probe per record, for the reason given in _live_rows.
        self.env.cr.execute(
            SQL(
                """
                SELECT i.res_id, m.external_id
                  FROM unnest(%s::int4[]) AS i(res_id)
                 CROSS JOIN LATERAL (
                        SELECT m.external_id FROM ihub_mapper m
                         WHERE m.integration_id = %s AND m.res_model = %s AND m.res_id = i.res_id
                         LIMIT 1
                       ) m
                """,
                res_ids,
                self.integration.id,
                self.model._name,
            )
        )
        return dict(self.env.cr.fetchall())

    # ---- Writing

    def bind(self, external_id, record, external_hash=None):
        """Bind ``external_id`` to ``record`` (a record or an id), replacing any binding either
        had in this mapper. Calling it again with the same pair changes nothing but the hash
        and the sync date. A hash of None keeps the stored one while the record stays the
        same."""
        self.bind_many([(external_id, record, external_hash)])

    def bind_many(self, pairs):
        """Bind each ``(external_id, record_or_id[, hash])`` of ``pairs`` as ``bind`` does, in
        one ``INSERT … ON CONFLICT``. When several pairs share an external id or a record, the
        last one wins."""
        external_ids, res_ids, hashes = mapper_lib.to_bindings(pairs, self._record_id)
        if not external_ids:
            return
        self._check_write()
        self._flush()
        # The CTE first drops the other bindings of the records being bound (a record has one
        # external id); the main INSERT waits for it through the count, since PostgreSQL runs
        # sibling data-modifying statements in no set order. Rows deleted by this statement do
        # not conflict with the rows it inserts.
        self.env.cr.execute(
            SQL(
                """
                WITH input AS (
                    SELECT * FROM unnest(%(external_ids)s::varchar[], %(res_ids)s::int4[],
                                         %(hashes)s::varchar[])
                             AS i(external_id, res_id, external_hash)
                ), moved AS (
                    DELETE FROM ihub_mapper m USING input i
                     WHERE m.integration_id = %(integration)s AND m.res_model = %(model)s
                       AND m.res_id = i.res_id AND m.external_id <> i.external_id
                    RETURNING 1
                )
                INSERT INTO ihub_mapper AS m (integration_id, company_id, res_model, res_id,
                                              external_id, external_hash, sync_date,
                                              create_uid, create_date, write_uid, write_date)
                SELECT %(integration)s, %(company)s, %(model)s, i.res_id, i.external_id,
                       i.external_hash, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM input i
                 WHERE (SELECT count(*) FROM moved) >= 0
                    ON CONFLICT (integration_id, res_model, external_id) DO UPDATE
                   SET res_id = EXCLUDED.res_id,
                       external_hash = CASE
                           WHEN EXCLUDED.external_hash IS NOT NULL THEN EXCLUDED.external_hash
                           WHEN m.res_id = EXCLUDED.res_id THEN m.external_hash
                       END,
                       sync_date = EXCLUDED.sync_date,
                       write_uid = EXCLUDED.write_uid,
                       write_date = EXCLUDED.write_date
                """,
                external_ids=external_ids,
                res_ids=res_ids,
                hashes=hashes,
                integration=self.integration.id,
                company=self._company_id,
                model=self.model._name,
                now=self.env.cr.now(),
                uid=self.env.uid,
            )
        )
        self._invalidate()

    def unbind(self, external_id=None, record=None):
        """Forget the binding of ``external_id``, of ``record`` (a record, several, or an id),
        or, given both, the binding of exactly that pair. Returns how many were removed."""
        if external_id is None and record is None:
            raise ValueError("unbind() needs an external id, a record, or both")
        conditions = [
            SQL("integration_id = %s AND res_model = %s", self.integration.id, self.model._name)
        ]
        if external_id is not None:
            conditions.append(SQL("external_id = %s", mapper_lib.to_external_id(external_id)))
        if record is not None:
            if isinstance(record, models.BaseModel):
                self._check_model(record)
                res_ids = list(record._ids)
            else:
                res_ids = [self._record_id(record)]
            conditions.append(SQL("res_id = ANY(%s)", res_ids))
        self._check_write()
        self._flush()
        self.env.cr.execute(SQL("DELETE FROM ihub_mapper WHERE %s", SQL(" AND ").join(conditions)))
        removed = self.env.cr.rowcount
        self._invalidate()
        return removed

    # ---- Internals

    def _live_rows(self, external_ids, column):
        """``(external_id, column)`` rows of the bound ``external_ids`` whose record exists;
        removes the bindings of deleted records it meets."""
        external_ids = mapper_lib.to_external_ids(external_ids)
        if not external_ids:
            return []
        self._flush()
        if self._exact:
            # The delete trigger keeps the bindings exact: no record needs checking, and the
            # plain lookup is one scan of the unique index (it holds all three columns).
            self.env.cr.execute(
                SQL(
                    """
                    SELECT external_id, %s FROM ihub_mapper m
                     WHERE integration_id = %s AND res_model = %s AND external_id = ANY(%s)
                    """,
                    column,
                    self.integration.id,
                    self.model._name,
                    external_ids,
                )
            )
            return self.env.cr.fetchall()
        # One index probe per id, each also probing the model's primary key (the existence
        # check). Written as a LATERAL subquery with LIMIT 1 so that PostgreSQL cannot turn it
        # into a scan of the whole table: with "external_id = ANY(...)" its planner prefers a
        # sequential scan once one integration holds most rows, several times slower for a
        # batch of 1,000 among 100,000. This way the cost follows the batch, not the table.
        self.env.cr.execute(
            SQL(
                """
                SELECT i.external_id, %s, m.live IS NULL
                  FROM unnest(%s::varchar[]) AS i(external_id)
                 CROSS JOIN LATERAL (
                        SELECT m.res_id, m.external_hash, r.id AS live
                          FROM ihub_mapper m
                          LEFT JOIN %s r ON r.id = m.res_id
                         WHERE m.integration_id = %s AND m.res_model = %s
                           AND m.external_id = i.external_id
                         LIMIT 1
                       ) m
                """,
                column,
                external_ids,
                self._table,
                self.integration.id,
                self.model._name,
            )
        )
        rows = self.env.cr.fetchall()
        dead = [row[0] for row in rows if row[2]]
        if dead:
            self._remove_dead(dead)
        return [row[:2] for row in rows if not row[2]]

    def _remove_dead(self, external_ids):
        # A read-only cursor (an RPC read) cannot delete: the scheduled action will.
        if self.env.cr.readonly:
            return
        self.env.cr.execute(
            SQL(
                """
                DELETE FROM ihub_mapper m
                 WHERE m.integration_id = %s AND m.res_model = %s AND m.external_id = ANY(%s)
                   AND NOT EXISTS (SELECT 1 FROM %s r WHERE r.id = m.res_id)
                """,
                self.integration.id,
                self.model._name,
                external_ids,
                self._table,
            )
        )
        self._invalidate()

    def _record_id(self, record):
        if isinstance(record, models.BaseModel):
            self._check_model(record)
            record.ensure_one()
            return record.id
        if isinstance(record, bool) or not isinstance(record, int) or record <= 0:
            raise ValueError(f"expected a {self.model._name} record or id, not {record!r}")
        return record

    def _check_model(self, records):
        if records._name != self.model._name:
            raise ValueError(f"this mapper maps {self.model._name}, not {records._name}")

    def _check_write(self):
        """The integration's own runs and iHub managers bind; the SQL runs on their behalf."""
        env = self.env
        if env.su or run_progress.executing(self.integration.id):
            return
        if not env.user.has_group("ihub.group_ihub_manager"):
            raise AccessError(
                _(
                    "Only the runs of %(integration)s and iHub managers can change its "
                    "external ids.",
                    integration=self.integration.display_name,
                )
            )

    def _flush(self):
        # Mappings edited through the ORM (a manager's correction) must reach the table first.
        self.env["ihub.mapper"].flush_model()

    def _invalidate(self):
        self.env["ihub.mapper"].invalidate_model()
