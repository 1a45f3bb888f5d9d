"""The sync engine: import pages of outside records into Odoo, export Odoo records outside.

Plain Python: the Odoo side (``ihub/models/ihub_sync.py``) gives it a *store* — where
mappings and records live — and the integration gives it what only it knows: how to fetch a
page, how to convert one record, how to send one. The engine does the rest, the same way for
every integration:

* upserts through the external-id mapper in batches (one lookup per batch, ``create`` with a
  list, grouped ``write``), so that importing the same window twice creates nothing twice and
  writes nothing when the outside record did not change (its fingerprint is kept on the mapping);
* a record that cannot be converted or saved is skipped and reported; the rest of its batch is
  kept (a failing batch is saved again record by record to find the bad one);
* counts and a checkpoint are committed after every page, so a crash resumes at the next page;
* a dry run computes what would be created, updated and skipped, and writes nothing;
* for two-way syncs, a conflict rule decides which side wins when both changed, and a record
  written by an import is not exported back unchanged (no ping-pong).

Example (inside ``run_from_to``; ``self.ihub_import`` builds the store and calls this)::

    def run_from_to(self, _from, _to):
        def fetch(cursor):                       # one page and where the next one starts
            page = self._api_partners(since=_from, until=_to, offset=int(cursor or 0))
            return page["items"], page.get("next_offset")

        self.ihub_import("res.partner", fetch, convert=self._partner_vals, external_id="id")
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from .exceptions import IHubError

NEWEST_WINS, ODOO_WINS, REMOTE_WINS = "newest_wins", "odoo_wins", "remote_wins"
CONFLICT_RULES = (NEWEST_WINS, ODOO_WINS, REMOTE_WINS)
MISSING = object()


class RecordError(IHubError):
    """One outside record cannot be converted: it is skipped and reported, the run goes on."""


# ---- Reading outside records


def get_path(item, path, default=None):
    """The value at ``path`` in nested dicts and lists (``"address.country"``, ``"lines.0"``)."""
    value = item
    for part in path.split(".") if path else ():
        if isinstance(value, dict):
            value = value.get(part, MISSING)
        elif isinstance(value, list | tuple) and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else MISSING
        else:
            value = MISSING
        if value is MISSING:
            return default
    return value


def fingerprint(item):
    """A short stable hash of an outside record, to recognise it unchanged next time."""
    text = json.dumps(item, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def parse_datetime(value):
    """An ISO 8601 text (or a datetime) as a naive UTC datetime, the way Odoo stores them."""
    if value in (None, "", False):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as error:
            raise RecordError(f"'{value}' is not a date and time") from error
    if parsed.tzinfo:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def parse_date(value):
    """An ISO 8601 date (or the date part of a date and time)."""
    if value in (None, "", False):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError as error:
        raise RecordError(f"'{value}' is not a date") from error


# ---- Declarative field mapping


@dataclass
class FieldRule:
    """One Odoo field filled from a path of the outside record.

    ``convert`` turns the outside value into the Odoo value (a parser, a value map's
    ``to_odoo``); ``reference`` names the Odoo model whose mapper turns an outside id into a
    record id (many2one through the mapper); ``required`` makes a missing value a record error.
    """

    path: str
    field: str
    convert: Callable | None = None
    reference: str | None = None
    required: bool = False
    default: object = MISSING


class FieldMapping:
    """Converts outside records to Odoo values by a list of :class:`FieldRule`.

    References (many2one through a mapper) are resolved for a whole batch at once: call
    :meth:`references` on the batch, resolve each model's ids with one mapper call, and pass
    the result to :meth:`convert`.
    """

    def __init__(self, rules):
        self.rules = list(rules)

    def references(self, items):
        """The outside ids each referenced model needs for ``items``: {model: set(ids)}."""
        wanted = {}
        for rule in self.rules:
            if rule.reference:
                ids = wanted.setdefault(rule.reference, set())
                for item in items:
                    value = get_path(item, rule.path)
                    if value not in (None, "", False):
                        ids.add(str(value))
        return wanted

    def convert(self, item, resolved=None):
        """The Odoo values for ``item``; ``resolved`` is {model: {outside id: record id}}."""
        vals = {}
        for rule in self.rules:
            value = get_path(item, rule.path)
            if value in (None, ""):
                if rule.required:
                    raise RecordError(f"'{rule.path}' is missing")
                if rule.default is not MISSING:
                    vals[rule.field] = rule.default
                elif rule.reference:
                    vals[rule.field] = False
                continue
            if rule.reference:
                record_id = (resolved or {}).get(rule.reference, {}).get(str(value))
                if record_id is None:
                    raise RecordError(
                        f"'{rule.path}' refers to {rule.reference} '{value}', which is not "
                        "imported yet"
                    )
                value = record_id
            if rule.convert:
                try:
                    value = rule.convert(value)
                except RecordError:
                    raise
                except (ValueError, TypeError, LookupError) as error:
                    raise RecordError(f"'{rule.path}': {error}") from error
            vals[rule.field] = value
        return vals

    def __call__(self, item, resolved=None):
        return self.convert(item, resolved)


# ---- Import


@dataclass
class Known:
    """What the mapper knows of an outside id: its record and the last sync."""

    res_id: int
    external_id: str | None = None
    external_hash: str | None = None
    sync_date: datetime | None = None
    write_date: datetime | None = None


@dataclass
class SyncReport:
    """What a sync did (or, in a dry run, would do)."""

    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    failed: int = 0
    sent: int = 0
    errors: list = field(default_factory=list)  # (outside id or record, message)
    pages: int = 0

    MAX_ERRORS = 50

    @property
    def processed(self):
        return self.created + self.updated + self.unchanged + self.conflicts + self.failed

    def error(self, key, message):
        self.failed += 1
        if len(self.errors) < self.MAX_ERRORS:
            self.errors.append((key, message))

    def summary(self):
        verb = "would create" if self.dry_run else "created"
        parts = [f"{verb} {self.created}", f"updated {self.updated}"]
        if self.dry_run:
            parts[1] = f"would update {self.updated}"
        parts.append(f"unchanged {self.unchanged}")
        if self.conflicts:
            parts.append(f"kept Odoo's changes on {self.conflicts}")
        if self.sent:
            parts.append(f"sent {self.sent}")
        parts.append(f"failed {self.failed}")
        return ", ".join(parts)


class ImportStore:
    """Where an import reads mappings and writes records (the Odoo side implements it)."""

    def lookup(self, external_ids) -> dict:  # {outside id: Known}
        raise NotImplementedError

    def resolve(self, model, external_ids) -> dict:  # {outside id: record id} of another model
        raise NotImplementedError

    def create_records(self, vals_list) -> list:  # new record ids, in order
        raise NotImplementedError

    def write_records(self, res_ids, vals):  # the same values on several records
        raise NotImplementedError

    def bind(self, rows):  # [(outside id, record id, fingerprint)]: mappings created or refreshed
        raise NotImplementedError

    def savepoint(self):  # a context manager that undoes its block when it raises
        raise NotImplementedError

    def plan(self, external_ids):  # a dry run would create these: resolve() may return them
        pass

    def commit(self, report, checkpoint):  # counts and where the next page starts
        raise NotImplementedError


class Importer:
    """Imports outside records page by page through a store (see the module docstring).

    ``convert(item, resolved)`` returns the Odoo values of one outside record (a
    :class:`FieldMapping` is such a callable) or None to skip it; ``external_id(item)`` (or a
    path) its outside id; ``modified(item)`` (or a path) when it last changed outside, for
    the ``newest_wins`` conflict rule.
    """

    def __init__(
        self,
        store,
        convert,
        external_id="id",
        *,
        batch_size=500,
        dry_run=False,
        conflict=REMOTE_WINS,
        modified=None,
        references=None,
    ):
        if conflict not in CONFLICT_RULES:
            raise ValueError(f"conflict must be one of {CONFLICT_RULES}, not {conflict!r}")
        self.store, self.convert, self.batch_size = store, convert, max(1, batch_size)
        self.external_id = _getter(external_id)
        self.modified = _getter(modified) if modified else None
        self.references = references or getattr(convert, "references", None)
        self.conflict, self.report = conflict, SyncReport(dry_run=dry_run)

    def run(self, fetch, cursor=None):
        """Import every page ``fetch(cursor) -> (items, next cursor or None)`` returns."""
        while True:
            items, next_cursor = fetch(cursor)
            items = list(items or ())
            for start in range(0, len(items), self.batch_size):
                self.import_batch(items[start : start + self.batch_size])
            self.report.pages += 1
            if not self.report.dry_run:
                self.store.commit(self.report, next_cursor)
            if next_cursor in (None, "", False) or next_cursor == cursor:
                return self.report
            cursor = next_cursor

    def import_batch(self, items):
        report = self.report
        keyed = {}
        for item in items:
            try:
                key = self.external_id(item)
            except Exception as error:  # noqa: BLE001 - any bad record is reported, not fatal
                report.error(None, f"no outside id: {error}")
                continue
            if key in (None, "", False):
                report.error(None, "a record has no outside id")
                continue
            keyed[str(key)] = item  # the latest version of a record wins within a page
        if not keyed:
            return
        known = self.store.lookup(list(keyed))
        resolved = self._resolve(keyed.values())
        to_create, to_write = [], []
        for key, item in keyed.items():
            current = known.get(key)
            item_hash = fingerprint(item)
            if current and current.external_hash == item_hash:
                report.unchanged += 1
                continue
            if current and self._odoo_wins(current, item):
                report.conflicts += 1
                continue
            try:
                vals = self.convert(item, resolved)
            except RecordError as error:
                report.error(key, str(error))
                continue
            if vals is None:
                report.unchanged += 1
                continue
            if current:
                to_write.append((key, current.res_id, vals, item_hash))
            else:
                to_create.append((key, vals, item_hash))
        if report.dry_run:
            report.created += len(to_create)
            report.updated += len(to_write)
            # Later steps of the dry run may refer to these as if they had been created.
            self.store.plan([key for key, _vals, _hash in to_create])
            return
        self._save(to_create, to_write)

    def _resolve(self, items):
        if not self.references:
            return {}
        wanted = self.references(list(items))
        return {model: self.store.resolve(model, sorted(ids)) for model, ids in wanted.items()}

    def _odoo_wins(self, current, item):
        """Both sides changed since the last sync: may the outside version be applied?"""
        changed_in_odoo = (
            current.write_date and current.sync_date and current.write_date > current.sync_date
        )
        if not changed_in_odoo or self.conflict == REMOTE_WINS:
            return False
        if self.conflict == ODOO_WINS:
            return True
        remote_date = parse_datetime(self.modified(item)) if self.modified else None
        return remote_date is None or remote_date <= current.write_date

    def _save(self, to_create, to_write):
        try:
            with self.store.savepoint():
                self._save_all(to_create, to_write)
        except Exception:  # noqa: BLE001 - find the bad records one by one, keep the others
            for row in to_create:
                self._save_one([row], [])
            for row in to_write:
                self._save_one([], [row])
            return
        self.report.created += len(to_create)
        self.report.updated += len(to_write)

    def _save_one(self, to_create, to_write):
        key = (to_create or to_write)[0][0]
        try:
            with self.store.savepoint():
                self._save_all(to_create, to_write)
        except Exception as error:  # noqa: BLE001
            self.report.error(key, _error_text(error))
            return
        self.report.created += len(to_create)
        self.report.updated += len(to_write)

    def _save_all(self, to_create, to_write):
        bindings = []
        if to_create:
            new_ids = self.store.create_records([vals for _key, vals, _hash in to_create])
            bindings += [
                (key, res_id, item_hash)
                for (key, _vals, item_hash), res_id in zip(to_create, new_ids, strict=True)
            ]
        for vals, res_ids in group_writes((res_id, vals) for _k, res_id, vals, _h in to_write):
            self.store.write_records(res_ids, vals)
        bindings += [(key, res_id, item_hash) for key, res_id, _vals, item_hash in to_write]
        self.store.bind(bindings)


def group_writes(rows: Iterable) -> list:
    """[(record id, values)] as [(values, [record ids])]: one ``write`` per distinct values."""
    groups = {}
    for res_id, vals in rows:
        signature = json.dumps(vals, sort_keys=True, default=str)
        groups.setdefault(signature, (vals, []))[1].append(res_id)
    return list(groups.values())


# ---- Export


class ExportStore:
    """Where an export reads records and keeps the outside ids it gets back."""

    def external_ids(self, records) -> dict:  # {record id: Known}
        raise NotImplementedError

    def bind(self, rows):  # [(outside id, record id, fingerprint or None)]
        raise NotImplementedError

    def commit(self, report, checkpoint):
        raise NotImplementedError


class Exporter:
    """Sends Odoo records outside: ``send(record, payload, outside id or None) -> outside id``.

    ``payload(record)`` builds what is sent (None: skip). A record whose last change is the
    import that wrote it (``write_date`` not after the mapping's ``sync_date``) is skipped,
    so a two-way sync does not send back what it just received.
    """

    def __init__(self, store, payload, send, *, batch_size=100, dry_run=False):
        self.store, self.payload, self.send = store, payload, send
        self.batch_size, self.report = max(1, batch_size), SyncReport(dry_run=dry_run)

    def run(self, batches):
        """Export each batch (a recordset, or any sized iterable of records) in order."""
        for batch in batches:
            self.export_batch(batch)
            if not self.report.dry_run and len(batch):
                self.store.commit(self.report, _checkpoint_of(batch))
        return self.report

    def export_batch(self, records):
        report = self.report
        mapped = self.store.external_ids(records)
        bindings = []
        for record in records:
            current = mapped.get(record.id)
            if current and current.sync_date and record.write_date <= current.sync_date:
                report.unchanged += 1
                continue
            try:
                payload = self.payload(record)
                if payload is None:
                    report.unchanged += 1
                    continue
                if report.dry_run:
                    report.updated += bool(current)
                    report.created += not current
                    continue
                external_id = self.send(record, payload, current.external_id if current else None)
            except RecordError as error:
                report.error(record.id, str(error))
                continue
            report.sent += 1
            report.updated += bool(current)
            report.created += not current
            if external_id not in (None, "", False):
                bindings.append((str(external_id), record.id, fingerprint(payload)))
        if bindings:
            self.store.bind(bindings)


def _checkpoint_of(batch):
    last = list(batch)[-1]
    return f"{last.write_date.isoformat()}|{last.id}" if last.write_date else str(last.id)


def _getter(path_or_callable):
    if callable(path_or_callable):
        return path_or_callable
    return lambda item: get_path(item, path_or_callable)


def _error_text(error):
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]


# ---- Resuming a run made of several steps


class Checkpoint:
    """Where a run of several sync steps got to: the steps done and the cursor of the current.

    Stored as the job's checkpoint text, so that a run that imports companies, then contacts,
    resumes inside contacts without importing companies again.
    """

    def __init__(self, text=None):
        data = {}
        if text:
            try:
                data = json.loads(text)
            except ValueError:
                data = {}
            if not isinstance(data, dict):
                data = {}
        self.done = list(data.get("done", []))
        self.step = data.get("step")
        self.cursor = data.get("cursor")

    def start(self, step):
        """The cursor to start ``step`` from; None to start at its beginning."""
        return self.cursor if step == self.step else None

    def is_done(self, step):
        return step in self.done

    def at(self, step, cursor):
        """The checkpoint text for ``step`` having got to ``cursor`` (None: step finished)."""
        if cursor in (None, "", False):
            if step not in self.done:
                self.done.append(step)
            self.step, self.cursor = None, None
        else:
            self.step, self.cursor = step, cursor
        return json.dumps({"done": self.done, "step": self.step, "cursor": self.cursor})
