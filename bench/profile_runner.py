#!/usr/bin/env python3
"""Where one iHub runner spends its time on trivial runs: SQL statements per run, and a profile.

    python3 bench/profile_runner.py [--jobs 300] [--dir /tmp/ihub-prof] [--profile] [--sql]
                                    [--times] [--addons-first DIR] [--patch FILE]

Starts (or, with ``--dir``, reuses across calls) a PostgreSQL cluster of its own with the
``ihub_bench`` addon installed, queues ``--jobs`` manual runs of do-nothing integrations, then
runs them in this process, one runner, the way a runner cron does (``_run_due_jobs``), and
prints: runs per second, CPU time of this process per run, SQL statements and commits per run
on the worker's cursor, on the run lock's connection and on any other cursor (psycopg2's own
BEGINs are not counted), and with ``--profile`` the functions where the time goes (cProfile).
``--sql`` prints the statements of one run, ``--times`` the time spent per statement.
``--addons-first DIR`` runs another version of the code (DIR/ihub, e.g. ``git archive HEAD
ihub | tar -x -C DIR``) on the same database; ``--patch FILE`` runs a Python file (given
``registry``) before the runs, for what-if experiments. Nothing is asserted. The cluster of a
temporary folder is stopped and removed at the end; one in ``--dir`` is stopped but kept, so
that the next call skips the install (45 s). Wall times move with the load of the machine:
compare versions in alternating calls.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import math
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import harness

DATABASE = "ihub_prof"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=300, help="runs to time (300)")
    parser.add_argument("--jobs-per-integration", type=int, default=10)
    parser.add_argument("--dir", help="keep the cluster and database here between calls")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the runs")
    parser.add_argument("--sql", action="store_true", help="print the statements of one run")
    parser.add_argument(
        "--addons-first", metavar="DIR", help="DIR/ihub (another version) instead of ihub/"
    )
    parser.add_argument(
        "--patch", metavar="FILE", help="a Python file run before the runs (what-if experiments)"
    )
    parser.add_argument("--times", action="store_true", help="time the statements by kind")
    parser.add_argument("--profile-out", metavar="FILE", help="save the profile (pstats)")
    parser.add_argument("--top", type=int, default=40, help="profile lines (40)")
    return parser.parse_args(argv)


class StatementCounter:
    """Counts the statements and commits of Odoo cursors (the runner's, others) and of the
    run lock's connection."""

    def __init__(self, sql_db):
        self.sql_db = sql_db
        self.worker = None  # the runner's cursor; every other one is counted as "other"
        self.counts = collections.Counter()
        self.seconds = collections.Counter()  # by the start of the statement
        self.calls = collections.Counter()
        self.log = None  # a list while one run's statements are recorded
        self._execute = sql_db.Cursor.execute
        self._commit = sql_db.Cursor.commit
        # The run lock's own connection (a LockSession), when the code has one.
        self.liveness = sys.modules.get("odoo.addons.ihub.lib.liveness")
        if not hasattr(self.liveness, "_SessionCursor"):
            self.liveness = None
        self._lock_execute = self.liveness and self.liveness._SessionCursor.execute

    def install(self):
        counter = self

        def execute(cursor, query, params=None, log_exceptions=True):
            kind = "worker" if cursor is counter.worker else "other"
            counter.counts[f"{kind} statements"] += 1
            text = " ".join((query.code if hasattr(query, "code") else str(query)).split())
            if counter.log is not None:
                counter.log.append(f"{kind:<6} {text[:160]}")
            start = time.perf_counter()
            try:
                return counter._execute(cursor, query, params, log_exceptions)
            finally:
                counter.seconds[text[:70]] += time.perf_counter() - start
                counter.calls[text[:70]] += 1

        def commit(cursor):
            kind = "worker" if cursor is counter.worker else "other"
            counter.counts[f"{kind} commits"] += 1
            if counter.log is not None:
                counter.log.append(f"{kind:<6} COMMIT")
            start = time.perf_counter()
            try:
                return counter._commit(cursor)
            finally:
                counter.seconds["COMMIT (with flush)"] += time.perf_counter() - start
                counter.calls["COMMIT (with flush)"] += 1

        def lock_execute(cursor, query, params):
            counter.counts["lock statements"] += 1
            if counter.log is not None:
                counter.log.append(f"lock   {query}")
            start = time.perf_counter()
            try:
                return counter._lock_execute(cursor, query, params)
            finally:
                counter.seconds[query[:70]] += time.perf_counter() - start
                counter.calls[query[:70]] += 1

        self.sql_db.Cursor.execute = execute
        self.sql_db.Cursor.commit = commit
        if self.liveness:
            self.liveness._SessionCursor.execute = lock_execute

    def uninstall(self):
        self.sql_db.Cursor.execute = self._execute
        self.sql_db.Cursor.commit = self._commit
        if self.liveness:
            self.liveness._SessionCursor.execute = self._lock_execute


def prepare(base: Path, fresh: bool, first: str | None):
    """The cluster (started) and the config of the in-process Odoo; installs when ``fresh``."""
    cluster = harness.start_cluster(base / "pg")
    conf = harness.write_config(
        base / "odoo.conf",
        addons=[
            *([first] if first else []),
            *harness.odoo_addons_paths(),
            str(harness.REPO_ROOT),
            str(harness.BENCH_DIR / "addons"),
        ],
        cluster=cluster,
        data_dir=base / "data",
        port=harness.free_port(),
        workers=1,
        server_wide="base,web",
        database=DATABASE,
    )
    if fresh:
        harness.install(conf, harness.odoo_env(0, 1), modules=("ihub_bench",), database=DATABASE)
    return cluster, conf


def report(args, counter, seconds, cpu, states, lines, profiler):
    """Print what was measured."""
    runs = args.jobs
    print(f"{runs} runs in {seconds:.2f} s: {runs / seconds:.1f} runs/s, "
          f"{seconds / runs * 1000:.2f} ms per run (one runner, in-process), "
          f"{cpu / runs * 1000:.2f} ms CPU of this process per run")  # fmt: skip
    for key in sorted(counter.counts):
        print(f"  {key:<18} {counter.counts[key] / runs:6.2f} per run")
    print(f"  job states now: {states}")
    if args.times:
        print("\nStatements by time (ms per run; calls per run; start of the statement):")
        for text, total in counter.seconds.most_common(25):
            print(f"  {total / runs * 1000:6.2f}  {counter.calls[text] / runs:5.2f}  {text}")
    if args.sql:
        print("\nStatements of one run (claim, commit, run, end):")
        for line in lines:
            print("  " + re.sub(r"\s+", " ", line))
    if profiler:
        print()
        stats = pstats.Stats(profiler)
        if args.profile_out:
            stats.dump_stats(args.profile_out)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top // 2)


def main(argv=None) -> int:
    args = parse_args(argv)
    keep = bool(args.dir)
    base = Path(args.dir) if keep else Path(tempfile.mkdtemp(prefix="ihub-prof-"))
    fresh = not (base / "installed").exists()
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)  # the postgres OS user must reach its cluster directory
    cluster = None
    try:
        cluster, conf = prepare(base, fresh, args.addons_first)
        (base / "installed").touch()
        import odoo  # noqa: PLC0415 - after the checks of harness
        from odoo import SUPERUSER_ID, api, fields, sql_db  # noqa: PLC0415
        from odoo.modules.registry import Registry  # noqa: PLC0415

        odoo.tools.config.parse_config(["-c", str(conf), f"--logfile={base / 'client.log'}"])
        registry = Registry(DATABASE)
        if args.patch:
            code = compile(Path(args.patch).read_text(), args.patch, "exec")
            exec(code, {"registry": registry})  # noqa: S102 - the developer's own experiment
        integrations = math.ceil(args.jobs / args.jobs_per_integration)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["ir.cron"].search([]).write({"active": False})  # nothing else runs
            Bench = env["ihub.integration.bench"].with_context(tracking_disable=True)
            bench = Bench.search([], order="id", limit=integrations)
            if len(bench) < integrations:
                user = env.ref("base.user_admin").id
                bench |= Bench.create(
                    [
                        {"name": f"Prof {n:04d}", "user_id": user}
                        for n in range(integrations - len(bench))
                    ]
                )
            supers = bench.super_id
            now = fields.Datetime.now()
            for number in range(args.jobs + 2):
                # Distinct periods: Run Manually refuses a second run of a period already queued.
                supers[number % len(supers)]._run_manually(
                    None, now - timedelta(seconds=number), allow_overlap=True
                )
        counter = StatementCounter(sql_db)
        counter.install()
        with registry.cursor() as cr:
            counter.worker = cr
            env = api.Environment(cr, SUPERUSER_ID, {})
            Job = env["ihub.job"]
            # Two runs first, untimed: the first warms the caches, the second shows the
            # statements of a run in the steady state.
            for logged in (False, True):
                counter.log = [] if logged else None
                job = Job._claim_next()
                Job._commit()
                job._run()
            lines, counter.log = counter.log, None
            counter.counts.clear()
            counter.seconds.clear()
            counter.calls.clear()
            profiler = cProfile.Profile() if args.profile else None
            start, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            Job._run_due_jobs(time.time() + 3600)
            if profiler:
                profiler.disable()
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu
            cr.execute(
                "SELECT state, count(*) FROM ihub_job GROUP BY state ORDER BY state",
            )
            states = dict(cr.fetchall())
        counter.uninstall()
        report(args, counter, seconds, cpu, states, lines, profiler)
        return 0
    finally:
        try:
            odoo_module = sys.modules.get("odoo")
            if odoo_module:
                odoo_module.sql_db.close_all()
        finally:
            if cluster is not None:
                cluster.stop()
            if not keep:
                shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
