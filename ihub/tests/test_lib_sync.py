"""The sync engine without a database: an in-memory store stands in for Odoo."""

from contextlib import contextmanager
from copy import deepcopy
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.sync import (
    NEWEST_WINS,
    ODOO_WINS,
    Checkpoint,
    Exporter,
    FieldMapping,
    FieldRule,
    Importer,
    ImportStore,
    Known,
    RecordError,
    fingerprint,
    get_path,
    group_writes,
    parse_date,
    parse_datetime,
)
from odoo.addons.ihub.lib.throttle import Quota, reserve


class MemoryStore(ImportStore):
    """Records and mappings in dicts; a savepoint restores both when its block raises."""

    def __init__(self, refuse=None):
        self.records, self.mappings, self.next_id = {}, {}, 1
        self.refuse = refuse or (lambda vals: False)
        self.calls = []
        self.commits = []
        self.references = {}
        self.now = datetime(2026, 1, 1)

    def lookup(self, external_ids):
        self.calls.append(("lookup", len(external_ids)))
        return {
            key: Known(
                res_id=m["res_id"],
                external_id=key,
                external_hash=m["hash"],
                sync_date=m["sync_date"],
                write_date=self.records[m["res_id"]]["write_date"],
            )
            for key, m in self.mappings.items()
            if key in external_ids
        }

    def resolve(self, model, external_ids):
        self.calls.append(("resolve", model, len(external_ids)))
        known = self.references.get(model, {})
        return {key: known[key] for key in external_ids if key in known}

    def _check(self, vals):
        if self.refuse(vals):
            raise ValueError(f"refused {vals}")

    def create_records(self, vals_list):
        self.calls.append(("create", len(vals_list)))
        ids = []
        for vals in vals_list:
            self._check(vals)
            self.records[self.next_id] = {**vals, "write_date": self.now}
            ids.append(self.next_id)
            self.next_id += 1
        return ids

    def write_records(self, res_ids, vals):
        self.calls.append(("write", len(res_ids)))
        self._check(vals)
        for res_id in res_ids:
            self.records[res_id].update(vals, write_date=self.now)

    def bind(self, rows):
        self.calls.append(("bind", len(rows)))
        for key, res_id, item_hash in rows:
            self.mappings[key] = {"res_id": res_id, "hash": item_hash, "sync_date": self.now}

    @contextmanager
    def savepoint(self):
        saved = deepcopy((self.records, self.mappings, self.next_id))
        try:
            yield
        except Exception:
            self.records, self.mappings, self.next_id = saved
            raise

    def commit(self, report, checkpoint):
        self.commits.append((report.processed, checkpoint))

    # export side
    def external_ids(self, records):
        by_record = {m["res_id"]: (key, m) for key, m in self.mappings.items()}
        return {
            r.id: Known(res_id=r.id, external_id=by_record[r.id][0], **_sync(by_record[r.id][1]))
            for r in records
            if r.id in by_record
        }


def _sync(mapping):
    return {"sync_date": mapping["sync_date"]}


def pages_of(items, size):
    def fetch(cursor):
        start = int(cursor or 0)
        end = start + size
        return items[start:end], (str(end) if end < len(items) else None)

    return fetch


def partner_items(count, prefix="P"):
    return [{"id": f"{prefix}{n}", "name": f"Partner {n}", "country": "BE"} for n in range(count)]


NAME_ONLY = FieldMapping([FieldRule("name", "name", required=True)])


class TestPaths(BaseCase):
    def test_get_path_reads_nested_dicts_and_lists(self):
        item = {"a": {"b": [{"c": 1}, {"c": 2}]}, "n": 0}
        self.assertEqual(get_path(item, "a.b.1.c"), 2)
        self.assertEqual(get_path(item, "a.b.-1.c"), 2)
        self.assertEqual(get_path(item, "n"), 0)
        self.assertIsNone(get_path(item, "a.b.5.c"))
        self.assertEqual(get_path(item, "a.x", default="?"), "?")
        self.assertIsNone(get_path(item, "n.deeper"))

    def test_dates_are_naive_utc(self):
        self.assertEqual(parse_datetime("2026-03-01T10:00:00+02:00"), datetime(2026, 3, 1, 8, 0, 0))
        self.assertEqual(parse_datetime("2026-03-01T10:00:00Z"), datetime(2026, 3, 1, 10, 0))
        self.assertEqual(parse_date("2026-03-01T23:00:00"), date(2026, 3, 1))
        self.assertIsNone(parse_datetime(""))
        with self.assertRaisesRegex(RecordError, "not a date and time"):
            parse_datetime("yesterday")
        with self.assertRaisesRegex(RecordError, "not a date"):
            parse_date("31/02/2026")

    def test_fingerprint_ignores_key_order(self):
        self.assertEqual(fingerprint({"a": 1, "b": 2}), fingerprint({"b": 2, "a": 1}))
        self.assertNotEqual(fingerprint({"a": 1}), fingerprint({"a": 2}))


class TestFieldMapping(BaseCase):
    def test_rules_convert_paths_values_and_references(self):
        mapping = FieldMapping(
            [
                FieldRule("name", "name", required=True),
                FieldRule("address.country", "country_code", convert=str.lower),
                FieldRule("updated", "date", convert=parse_date),
                FieldRule("company", "parent_id", reference="res.partner"),
                FieldRule("vip", "is_vip", default=False),
            ]
        )
        items = [
            {"name": "Ann", "address": {"country": "BE"}, "updated": "2026-01-02", "company": 7},
            {"name": "Bob", "address": {}, "vip": True},
        ]
        self.assertEqual(mapping.references(items), {"res.partner": {"7"}})
        resolved = {"res.partner": {"7": 42}}
        self.assertEqual(
            mapping(items[0], resolved),
            {
                "name": "Ann",
                "country_code": "be",
                "date": date(2026, 1, 2),
                "parent_id": 42,
                "is_vip": False,
            },
        )
        self.assertEqual(
            mapping(items[1], resolved), {"name": "Bob", "parent_id": False, "is_vip": True}
        )

    def test_missing_required_value_and_unknown_reference_are_record_errors(self):
        mapping = FieldMapping(
            [FieldRule("name", "name", required=True), FieldRule("co", "parent_id", reference="m")]
        )
        with self.assertRaisesRegex(RecordError, "'name' is missing"):
            mapping({"co": 1})
        with self.assertRaisesRegex(RecordError, "refers to m '9', which is not imported yet"):
            mapping({"name": "x", "co": 9}, {"m": {}})

    def test_converter_errors_name_the_path(self):
        mapping = FieldMapping([FieldRule("qty", "quantity", convert=int)])
        with self.assertRaisesRegex(RecordError, "'qty': invalid literal"):
            mapping({"qty": "many"})


class TestImporter(BaseCase):
    def test_import_creates_in_batches_and_commits_each_page(self):
        store = MemoryStore()
        report = Importer(store, NAME_ONLY, batch_size=4).run(pages_of(partner_items(10), 5))
        self.assertEqual((report.created, report.updated, report.failed), (10, 0, 0))
        self.assertEqual(len(store.records), 10)
        creates = [call for call in store.calls if call[0] == "create"]
        self.assertEqual(creates, [("create", 4), ("create", 1), ("create", 4), ("create", 1)])
        self.assertEqual(store.commits, [(5, "5"), (10, None)])

    def test_reimporting_a_window_creates_nothing_twice_and_writes_nothing_unchanged(self):
        store = MemoryStore()
        items = partner_items(6)
        Importer(store, NAME_ONLY).run(pages_of(items, 3))
        items[2] = {**items[2], "name": "Renamed"}
        store.calls.clear()
        report = Importer(store, NAME_ONLY).run(pages_of(items, 3))
        self.assertEqual((report.created, report.updated, report.unchanged), (0, 1, 5))
        self.assertEqual(len(store.records), 6)
        self.assertEqual(store.records[3]["name"], "Renamed")
        self.assertEqual([c for c in store.calls if c[0] in ("create", "write")], [("write", 1)])

    def test_equal_values_are_written_once_per_group(self):
        rows = [(1, {"active": False}), (2, {"active": False}), (3, {"active": True})]
        self.assertEqual(group_writes(rows), [({"active": False}, [1, 2]), ({"active": True}, [3])])

    def test_a_bad_record_is_skipped_and_reported_and_its_batch_kept(self):
        store = MemoryStore(refuse=lambda vals: vals.get("name") == "Partner 3")
        items = [*partner_items(5), {"name": "no id"}, {"id": "X"}]
        report = Importer(store, NAME_ONLY, batch_size=10).run(pages_of(items, 10))
        self.assertEqual(report.created, 4)
        self.assertEqual(report.failed, 3)
        self.assertEqual(sorted(r["name"] for r in store.records.values()), [
            "Partner 0", "Partner 1", "Partner 2", "Partner 4"
        ])  # fmt: skip
        keys = [key for key, _message in report.errors]
        self.assertIn("P3", keys)
        self.assertIn("X", keys)
        self.assertIn("refused", dict(report.errors)["P3"])
        self.assertNotIn("P3", store.mappings)

    def test_dry_run_counts_and_writes_nothing(self):
        store = MemoryStore()
        Importer(store, NAME_ONLY).run(pages_of(partner_items(3), 10))
        store.calls.clear()
        items = [*partner_items(3), {"id": "P9", "name": "New"}, {"id": "P1", "name": "Changed"}]
        report = Importer(store, NAME_ONLY, dry_run=True).run(pages_of(items, 10))
        self.assertEqual((report.created, report.updated, report.unchanged), (1, 1, 2))
        self.assertTrue(report.summary().startswith("would create 1, would update 1"))
        self.assertFalse([c for c in store.calls if c[0] in ("create", "write", "bind")])
        self.assertFalse(store.commits[1:])

    def test_resume_from_a_checkpoint_starts_at_that_page(self):
        store = MemoryStore()
        fetched = []
        fetch = pages_of(partner_items(9), 3)

        def recording_fetch(cursor):
            fetched.append(cursor)
            return fetch(cursor)

        report = Importer(store, NAME_ONLY).run(recording_fetch, cursor="6")
        self.assertEqual(fetched, ["6"])
        self.assertEqual(report.created, 3)

    def test_references_are_resolved_once_per_batch(self):
        store = MemoryStore()
        store.references["res.partner"] = {"C1": 100, "C2": 200}
        mapping = FieldMapping(
            [FieldRule("name", "name"), FieldRule("company", "parent_id", reference="res.partner")]
        )
        items = [{"id": f"P{n}", "name": "x", "company": f"C{n % 2 + 1}"} for n in range(8)]
        Importer(store, mapping, batch_size=8).run(pages_of(items, 8))
        self.assertEqual(
            [c for c in store.calls if c[0] == "resolve"], [("resolve", "res.partner", 2)]
        )
        self.assertEqual({r["parent_id"] for r in store.records.values()}, {100, 200})

    def test_conflict_rules_when_both_sides_changed(self):
        def run(conflict, remote_modified):
            store = MemoryStore()
            Importer(store, NAME_ONLY).run(pages_of([{"id": "A", "name": "one"}], 5))
            store.records[1]["write_date"] = datetime(2026, 1, 2)  # edited in Odoo after sync
            item = {"id": "A", "name": "two", "modified": remote_modified}
            report = Importer(store, NAME_ONLY, conflict=conflict, modified="modified").run(
                pages_of([item], 5)
            )
            return store.records[1]["name"], report.conflicts

        self.assertEqual(run("remote_wins", "2026-01-01T12:00:00"), ("two", 0))
        self.assertEqual(run(ODOO_WINS, "2026-01-03T00:00:00"), ("one", 1))
        self.assertEqual(run(NEWEST_WINS, "2026-01-01T12:00:00"), ("one", 1))
        self.assertEqual(run(NEWEST_WINS, "2026-01-03T00:00:00"), ("two", 0))

    def test_unknown_conflict_rule_is_refused(self):
        with self.assertRaises(ValueError):
            Importer(MemoryStore(), NAME_ONLY, conflict="coin_toss")


class TestExporter(BaseCase):
    def test_export_sends_new_and_changed_records_not_those_the_import_wrote(self):
        store = MemoryStore()
        Importer(store, NAME_ONLY).run(pages_of(partner_items(2), 5))
        imported = SimpleNamespace(id=1, write_date=store.now, name="Partner 0")
        edited = SimpleNamespace(id=2, write_date=datetime(2026, 1, 5), name="Edited")
        new = SimpleNamespace(id=7, write_date=datetime(2026, 1, 5), name="New")
        sent = []

        def send(record, payload, external_id):
            sent.append((record.id, payload, external_id))
            return external_id or f"R{record.id}"

        report = Exporter(store, lambda r: {"name": r.name}, send).run([[imported, edited, new]])
        self.assertEqual(sent, [(2, {"name": "Edited"}, "P1"), (7, {"name": "New"}, None)])
        self.assertEqual((report.created, report.updated, report.unchanged), (1, 1, 1))
        self.assertEqual(store.mappings["R7"]["res_id"], 7)
        self.assertEqual(store.commits[-1], (3, f"{new.write_date.isoformat()}|7"))

    def test_export_record_errors_are_reported_and_dry_run_sends_nothing(self):
        store = MemoryStore()
        records = [
            SimpleNamespace(id=n, write_date=datetime(2026, 1, 5), name=f"N{n}") for n in (1, 2)
        ]

        def payload(record):
            if record.id == 1:
                raise RecordError("no e-mail")
            return {"name": record.name}

        report = Exporter(store, payload, lambda *a: "X", dry_run=True).run([records])
        self.assertEqual((report.created, report.failed, report.sent), (1, 1, 0))
        self.assertEqual(report.errors, [(1, "no e-mail")])
        self.assertFalse(store.mappings)


class TestThrottle(BaseCase):
    def test_requests_are_evenly_paced(self):
        quota = Quota(limit=3, period_seconds=3)
        now, tat, waits = datetime(2026, 1, 1), None, []
        for _ in range(5):
            wait, tat = reserve(tat, now, quota)
            waits.append(wait)
        self.assertEqual(waits, [0, 1, 2, 3, 4])

    def test_an_idle_quota_refills(self):
        quota = Quota(limit=2, period_seconds=1)
        start = datetime(2026, 1, 1)
        _wait, tat = reserve(None, start, quota)
        _wait, tat = reserve(tat, start, quota)
        wait, _tat = reserve(tat, start + timedelta(seconds=5), quota)
        self.assertEqual(wait, 0)

    def test_over_any_period_no_more_than_the_limit_are_sent(self):
        quota = Quota(limit=10, period_seconds=60)
        now, tat, sent_at = datetime(2026, 1, 1), None, []
        for step in range(100):
            arrival = now + timedelta(seconds=step)
            wait, tat = reserve(tat, arrival, quota)
            sent_at.append(arrival + timedelta(seconds=wait))
        for index, first in enumerate(sent_at):
            in_window = [t for t in sent_at[index:] if t < first + timedelta(seconds=60)]
            self.assertLessEqual(len(in_window), 10)


class TestCheckpoint(BaseCase):
    def test_a_run_of_two_steps_resumes_inside_the_second(self):
        checkpoint = Checkpoint()
        self.assertIsNone(checkpoint.start("companies"))
        checkpoint.at("companies", "40")
        text = checkpoint.at("companies", None)
        text = Checkpoint(text).at("contacts", "120")
        resumed = Checkpoint(text)
        self.assertTrue(resumed.is_done("companies"))
        self.assertFalse(resumed.is_done("contacts"))
        self.assertEqual(resumed.start("contacts"), "120")
        self.assertIsNone(resumed.start("companies"))

    def test_a_foreign_checkpoint_starts_from_scratch(self):
        for text in ("42", "[1]", "not json", None):
            checkpoint = Checkpoint(text)
            self.assertFalse(checkpoint.done)
            self.assertIsNone(checkpoint.start("any"))


class TestDryRunReferences(BaseCase):
    def test_a_dry_run_lets_later_records_refer_to_records_it_would_create(self):
        class PlanningStore(MemoryStore):
            def plan(self, external_ids):
                self.references.setdefault("res.partner", {}).update(dict.fromkeys(external_ids, 0))

        store = PlanningStore()
        mapping = FieldMapping(
            [FieldRule("name", "name"), FieldRule("company", "parent_id", reference="res.partner")]
        )
        companies = [{"id": "C1", "name": "Company"}]
        people = [{"id": "P1", "name": "Person", "company": "C1"}]
        Importer(store, mapping, dry_run=True).run(pages_of(companies, 5))
        report = Importer(store, mapping, dry_run=True).run(pages_of(people, 5))
        self.assertEqual((report.created, report.failed), (1, 0))
        self.assertFalse(store.records)
