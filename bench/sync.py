#!/usr/bin/env python3
"""P1: importing contacts through iHub's sync helper vs raw batched ORM ``create``.

    python3 bench/sync.py [--sizes 20000,200000] [--page 1000]

Both sides create the same generated contacts (``res.partner``) in pages, committing after
each page, in a database of their own on a throwaway PostgreSQL cluster:

* **raw**: ``create(page)`` and ``commit()`` — the floor of what Odoo can do;
* **iHub**: a real run of an integration (queued, claimed and run by the job runner) whose
  ``run_from_to`` calls ``ihub_import``: fetch a page, look its ids up in the mapper, convert,
  ``create``, bind the new records in the mapper, count, checkpoint and commit each page,
  and log the summary event.

Each measurement runs in a fresh process, which prints its time and its peak memory (the
process's maximum resident set size): at 20,000 and 200,000 records the peak must stay flat,
far below Odoo's default worker soft limit (2 GiB). Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import resource
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402

DATABASE = "ihub_bench_sync"
ODOO_SOFT_LIMIT_MB = 2048


def parse_args(argv=None):
    parser = harness.argument_parser("sync.py", __doc__, children=("raw", "ihub"))
    parser.add_argument("--sizes", default="20000,200000", help="records per import")
    parser.add_argument("--page", type=int, default=1000, help="records per page and batch")
    parser.add_argument(
        "--profile", metavar="FILE", help="write a cProfile of the iHub runs to FILE(.<size>)"
    )
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---- In the measuring process


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args) -> dict:
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.conf])
    registry = Registry(DATABASE)
    from odoo.addons.ihub.models.sync_store import IMPORT_CONTEXT
    from odoo.addons.ihub_bench.models.ihub_integration_bench_import import (
        PAGE_PARAM,
        SIZE_PARAM,
        contact_rows,
        contact_vals,
    )

    loaded_mb = _peak_mb()
    start = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        if args.child == "raw":
            Partner = (
                env["res.partner"]
                .with_user(env.ref("base.user_admin"))
                .with_context(**IMPORT_CONTEXT)
            )
            for rows in contact_rows(args.size, args.page):
                Partner.create([contact_vals(row) for row in rows])
                cr.commit()
                env.invalidate_all()
            state, counts = "done", args.size
        else:
            params = env["ir.config_parameter"]
            params.set_param(SIZE_PARAM, args.size)
            params.set_param(PAGE_PARAM, args.page)
            integration = (
                env["ihub.integration.bench.import"]
                .with_context(tracking_disable=True)
                .create({"name": f"Import {args.size}", "user_id": env.ref("base.user_admin").id})
                .super_id
            )
            job = integration.with_user(env.ref("base.user_admin"))._run_manually(None, cr.now())
            cr.commit()
            start = time.perf_counter()
            if args.profile:
                cProfile.runctx(
                    'env["ihub.job"]._cron_run_due_jobs(time_budget=3600)',
                    globals(), {"env": env}, args.profile,
                )  # fmt: skip
            else:
                env["ihub.job"]._cron_run_due_jobs(time_budget=3600)
            job.invalidate_recordset()
            state, counts = job.state, job.processed_count
        seconds = time.perf_counter() - start
        cr.execute("SELECT count(*) FROM res_partner WHERE ref LIKE 'bench-%%'")
        created = cr.fetchone()[0]
    return {
        "mode": args.child,
        "size": args.size,
        "seconds": seconds,
        "state": state,
        "counted": counts,
        "created": created,
        "loaded_mb": loaded_mb,
        "peak_mb": _peak_mb(),
    }


# ---- The driver


def measure(session: harness.Session, mode: str, size: int, args) -> dict:
    # Each measurement starts alike: without what the previous one imported, vacuumed.
    session.sql(
        DATABASE,
        "DELETE FROM ihub_mapper",
        "DELETE FROM res_partner WHERE ref LIKE 'bench-%'",
        "VACUUM ANALYZE ihub_mapper, res_partner",
    )
    harness.say(f"{mode}: importing {size:,} contacts ...")
    extra = ["--profile", f"{args.profile}.{size}"] if args.profile and mode == "ihub" else []
    return harness.run_child(
        "sync.py", mode, session.conf, "--size", str(size), "--page", str(args.page), *extra
    )


def run(session: harness.Session, args) -> None:
    sizes = [int(size) for size in args.sizes.split(",") if size]
    session.install(("ihub_bench",), DATABASE)
    rows = []
    for size in sizes:
        raw = measure(session, "raw", size, args)
        ihub = measure(session, "ihub", size, args)
        rows.append((size, raw, ihub))
    print_report(rows, args.page, session.conditions())


def main(argv=None) -> int:
    return harness.main(
        "sync", parse_args(argv), run, children={"raw": child, "ihub": child}, keep=True
    )


def print_report(rows, page, conditions):
    print(
        f"\nP1 import: res.partner in pages of {page:,}, a commit per page (same run); "
        f"{conditions}\n"
    )
    print(
        f"{'records':>9} {'raw s':>8} {'raw rec/s':>10} {'iHub s':>8} {'iHub rec/s':>11} "
        f"{'iHub/raw':>9} {'raw peak MB':>12} {'iHub peak MB':>13}"
    )
    for size, raw, ihub in rows:
        raw_rate, ihub_rate = size / raw["seconds"], size / ihub["seconds"]
        print(
            f"{size:>9,} {raw['seconds']:>8.1f} {raw_rate:>10,.0f} {ihub['seconds']:>8.1f} "
            f"{ihub_rate:>11,.0f} {ihub_rate / raw_rate:>8.2f}x {raw['peak_mb']:>12.0f} "
            f"{ihub['peak_mb']:>13.0f}"
        )
        if ihub["state"] != "done" or ihub["created"] != size or raw["created"] != size:
            print(f"  !! check: iHub run {ihub['state']}, created {ihub['created']}/{size}")
    print(
        "\nTarget: iHub >= 0.8x raw. Peak memory is each process's maximum resident set "
        f"(after loading Odoo: {rows[0][1]['loaded_mb']:.0f} MB); Odoo's default worker soft "
        f"limit is {ODOO_SOFT_LIMIT_MB} MB."
    )


if __name__ == "__main__":
    sys.exit(main())
