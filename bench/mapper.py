#!/usr/bin/env python3
"""iHub mapper benchmark (P2): resolving external ids through ``Mapper.records()`` against the
raw SQL lookup it wraps.

    python3 bench/mapper.py [--ids 100000] [--batch 1000] [--rounds 5]

Starts a PostgreSQL cluster of its own in a temporary folder and installs ``ihub_bench`` (iHub
and a do-nothing integration type) in a new database. Then, with Odoo in this process (no
server), it inserts ``--ids`` partners, binds each to an external id through
``Mapper.bind_many`` (timed too), VACUUM ANALYZEs, and resolves all the external ids, in
shuffled batches of ``--batch`` as an importer would, two ways in the same run, alternating:
``mapper.records(batch)`` (records that exist, in the caller's environment) and a bare
``cr.execute("SELECT external_id, res_id FROM ihub_mapper WHERE ... external_id = ANY(%s)")``.
Prints the best round of each, the ratio (goal <= 1.5) and the SQL queries per
``records()`` call at three batch sizes. Asserts nothing. See bench/README.md.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import harness
from harness import say

DATABASE = "ihub_mapper_bench"
MODULES = ("ihub_bench",)
GOAL_RATIO = 1.5
QUERY_BATCH_SIZES = (100, 1_000, 10_000)
BIND_BATCH = 10_000
RAW_SQL = """
    SELECT external_id, res_id FROM ihub_mapper
     WHERE integration_id = %s AND res_model = %s AND external_id = ANY(%s)
"""
# The statement records() sends, without the ORM around it: shows what the plan costs apart.
# With the delete trigger on res_partner (added by the first mapper), it checks no record and
# is the raw query with the hash column added.
PROBE_SQL = """
    SELECT external_id, m.res_id FROM ihub_mapper m
     WHERE integration_id = %s AND res_model = %s AND external_id = ANY(%s)
"""
LOOKUPS = {
    "mapper": "mapper.records()",
    "raw": "raw SQL = ANY(%s)",
    "probe": "records()' SQL alone",
}


def parse_args(argv=None):
    """The command line."""
    parser = harness.argument_parser("mapper.py", __doc__)
    parser.add_argument("--ids", type=int, default=100_000, help="external ids (100000)")
    parser.add_argument("--batch", type=int, default=1_000, help="ids per lookup (1000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each (5)")
    args = parser.parse_args(argv)
    if args.ids < max(QUERY_BATCH_SIZES) or args.batch < 1 or args.rounds < 1:
        parser.error(f"--ids must be >= {max(QUERY_BATCH_SIZES)}, --batch and --rounds >= 1")
    return args


class Bench:
    """Odoo in this process, on the benchmark database, as the admin user (an iHub manager)."""

    def __init__(self, conf: Path, log: Path):
        import odoo_compat  # noqa: PLC0415 - imports Odoo, after the checks of harness

        odoo_compat.apply()
        import odoo  # noqa: PLC0415
        from odoo import api  # noqa: PLC0415
        from odoo.modules.registry import Registry  # noqa: PLC0415

        self.odoo = odoo
        odoo.tools.config.parse_config(["-c", str(conf), f"--logfile={log}"])
        self.registry = Registry(DATABASE)
        self.cr = self.registry.cursor()
        self.env = api.Environment(self.cr, 2, {})  # base.user_admin
        self.integration = None
        self.external_ids: list[str] = []

    def close(self) -> None:
        self.cr.rollback()
        self.cr.close()
        self.odoo.sql_db.close_all()

    def fill(self, count: int) -> float:
        """``count`` partners bound to external ids "EXT-<n>"; returns the binding time."""
        env = self.env
        sub = (
            env["ihub.integration.bench"]
            .with_context(tracking_disable=True)
            .create({"name": "Mapper benchmark", "user_id": env.uid})
        )
        self.integration = sub.super_id
        self.cr.execute(
            """
            INSERT INTO res_partner (name, complete_name, active, type, create_date, write_date)
            SELECT 'Bench ' || n, 'Bench ' || n, TRUE, 'contact', now(), now()
              FROM generate_series(1, %s) n
         RETURNING id
            """,
            [count],
        )
        ids = [row[0] for row in self.cr.fetchall()]
        self.external_ids = [f"EXT-{n}" for n in range(count)]
        mapper = self.integration.ihub_mapper("res.partner")
        started = time.perf_counter()
        for start in range(0, count, BIND_BATCH):
            chunk = slice(start, start + BIND_BATCH)
            mapper.bind_many(zip(self.external_ids[chunk], ids[chunk], strict=True))
        seconds = time.perf_counter() - started
        self.cr.commit()
        return seconds

    def mapper_round(self, batches) -> float:
        mapper = self.integration.ihub_mapper("res.partner")
        assert mapper._exact, "the delete trigger is missing: records() checks each record"  # noqa: S101
        started = time.perf_counter()
        for batch in batches:
            found = mapper.records(batch)
        seconds = time.perf_counter() - started
        assert len(found) == len(batches[-1])  # noqa: S101 - a wrong lookup is no benchmark
        return seconds

    def raw_round(self, batches) -> float:
        cr, integration_id = self.cr, self.integration.id
        started = time.perf_counter()
        for batch in batches:
            cr.execute(RAW_SQL, (integration_id, "res.partner", batch))
            found = dict(cr.fetchall())
        seconds = time.perf_counter() - started
        assert len(found) == len(batches[-1])  # noqa: S101
        return seconds

    def probe_round(self, batches) -> float:
        cr, integration_id = self.cr, self.integration.id
        started = time.perf_counter()
        for batch in batches:
            cr.execute(PROBE_SQL, (integration_id, "res.partner", batch))
            found = cr.fetchall()
        seconds = time.perf_counter() - started
        assert len(found) == len(batches[-1])  # noqa: S101
        return seconds

    def queries_per_call(self, size: int) -> int:
        mapper = self.integration.ihub_mapper("res.partner")
        batch = self.external_ids[:size]
        mapper.records(batch)  # the same call once before, as in a running import
        before = self.cr.sql_log_count
        mapper.records(batch)
        return self.cr.sql_log_count - before


def measure(bench: Bench, args) -> dict:
    shuffled = list(bench.external_ids[: args.ids])
    random.Random(7).shuffle(shuffled)
    batches = [shuffled[i : i + args.batch] for i in range(0, len(shuffled), args.batch)]
    runs = {"mapper": bench.mapper_round, "raw": bench.raw_round, "probe": bench.probe_round}
    for run in runs.values():
        run(batches[:5])  # warm the caches of each
    times = {name: [] for name in runs}
    for number in range(args.rounds):
        # In turns, so that none always runs on the warmest cache.
        names = list(runs)
        for name in names[number % len(names) :] + names[: number % len(names)]:
            times[name].append(runs[name](batches))
        say(f"round {number + 1}: " + ", ".join(f"{n} {t[-1]:.3f} s" for n, t in times.items()))
    return {
        **{name: min(seconds) for name, seconds in times.items()},
        "batches": len(batches),
        "queries": {size: bench.queries_per_call(size) for size in QUERY_BATCH_SIZES},
    }


def print_report(result: dict, args, bind_seconds: float, conditions: str) -> None:
    ratio = result["mapper"] / result["raw"]
    verdict = "meets" if ratio <= GOAL_RATIO else "misses"
    print()
    print(f"P2 resolve: {args.ids:,} external ids in {result['batches']} batches of {args.batch:,}")
    print(f"(best of {args.rounds} rounds; {conditions})")
    print()
    print("| Lookup | Seconds | ids/s |")
    print("| --- | ---: | ---: |")
    for name, label in LOOKUPS.items():
        seconds = result[name]
        print(f"| {label} | {seconds:.3f} | {args.ids / seconds:,.0f} |")
    print()
    print(f"Ratio mapper / raw SQL: {ratio:.2f} x (goal <= {GOAL_RATIO} x: {verdict} it)")
    print()
    print("| Batch size | SQL queries per records() call |")
    print("| ---: | ---: |")
    for size, count in result["queries"].items():
        print(f"| {size:,} | {count} |")
    print()
    print(f"Binding {args.ids:,} ids with bind_many ({BIND_BATCH:,} a call): {bind_seconds:.2f} s")


def run(session: harness.Session, args) -> None:
    """Install, fill, measure and print."""
    conf = session.install(MODULES, DATABASE)
    bench = Bench(conf, session.base / "client.log")
    session.on_exit(bench.close)
    say(f"binding {args.ids:,} partners ...")
    bind_seconds = bench.fill(args.ids)
    session.sql(DATABASE, "VACUUM ANALYZE ihub_mapper, res_partner")
    say(f"bound in {bind_seconds:.1f} s; resolving ...")
    result = measure(bench, args)
    print_report(result, args, bind_seconds, session.conditions())


def main(argv=None) -> int:
    return harness.main("mapper", parse_args(argv), run)


if __name__ == "__main__":
    sys.exit(main())
