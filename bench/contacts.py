#!/usr/bin/env python3
"""The Odoo-to-Odoo example's throughput: contacts per second imported from another Odoo.

    python3 bench/contacts.py [--companies 200] [--contacts 3000] [--pages 50,500]
                              [--delay-ms 10] [--rounds 1]

A throwaway PostgreSQL cluster holds two databases: the "other Odoo" (Odoo's contacts app,
``--companies`` companies and ``--contacts`` contacts, a sync user and its API key; see
``scripts/devtools/other_odoo.py``), served by a real Odoo server on loopback, and iHub's
database with ``ihub_odoo_contacts`` and one integration pointing at it. Each measurement is
a real run of that integration through iHub's runner (queued, claimed, run as its run user,
pages fetched over JSON-RPC, upserted through the mapper, committed page by page), in a fresh
process, on a fresh copy of iHub's database (nothing imported yet), reaching the other Odoo:

* **direct**: straight to its port;
* **proxy**: through ``bench/delay_proxy.py``, which adds ``--delay-ms`` to every request,
  as a remote server would;

at each page size of ``--pages`` (contacts per request). Prints contacts per second, the
requests each run sent, and the ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402
from delay_proxy import DelayProxy  # noqa: E402
from devtools import common  # noqa: E402
from devtools.other_odoo import OdooRuntime, OtherOdoo  # noqa: E402

DATABASE = "ihub_bench_contacts"
TEMPLATE = f"{DATABASE}_template"
OTHER_DATABASE = "ihub_bench_contacts_other"
INTEGRATION_NAME = "Bench: contacts from the other Odoo"
MODULE = "ihub_odoo_contacts"


def parse_args(argv=None):
    parser = harness.argument_parser("contacts.py", __doc__, children=("setup", "run"))
    parser.add_argument("--companies", type=int, default=200, help="companies on the other side")
    parser.add_argument("--contacts", type=int, default=3000, help="contacts on the other side")
    parser.add_argument("--pages", default="50,500", help="page sizes (contacts per request)")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="the proxy's added latency")
    parser.add_argument("--rounds", type=int, default=1, help="measurements of each (best kept)")
    parser.add_argument("--seed", type=int, default=1, help="of the sample data")
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--page", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--connection", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---- In the Odoo processes


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _registry(args):
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.conf])
    return Registry(args.database)


def child_setup(args) -> dict:
    """In the template database: the integration, run as admin, with the sync user's key."""
    from odoo import SUPERUSER_ID, api

    connection = json.loads(Path(args.connection).read_text())
    with _registry(args).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        admin = env.ref("base.user_admin")
        sub = (
            env["ihub.integration.odoo_contacts"]
            .with_context(tracking_disable=True)
            .create(
                {
                    "name": INTEGRATION_NAME,
                    "user_id": admin.id,
                    "run_user_id": admin.id,
                    "base_url": connection["url"],
                    "allow_private_network": True,  # the other Odoo is on loopback
                    "remote_database": connection["database"],
                }
            )
        )
        credential = sub.super_id._ihub_credential("basic")
        credential.write({"username": connection["login"], "secret": connection["api_key"]})
        return {"integration": sub.super_id.id}


def child_run(args) -> dict:
    """One full import (everything the other side has), timed from the claim to the end."""
    from odoo import SUPERUSER_ID, api, fields

    registry = _registry(args)
    loaded_mb = _peak_mb()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        sub = env["ihub.integration.odoo_contacts"].search([("name", "=", INTEGRATION_NAME)])
        sub.write({"base_url": args.url, "page_size": args.page})
        integration = sub.super_id
        date_to = fields.Datetime.now() + timedelta(minutes=1)
        job = integration.with_user(integration.user_id)._run_manually(None, date_to)
        cr.commit()
        start = time.perf_counter()
        env["ihub.job"]._cron_run_due_jobs(time_budget=3600)
        seconds = time.perf_counter() - start
        job.invalidate_recordset()
        cr.execute(
            "SELECT count(*) FROM ihub_mapper WHERE integration_id = %s AND res_model = %s",
            (integration.id, "res.partner"),
        )
        mapped = cr.fetchone()[0]
        return {
            "seconds": seconds,
            "state": job.state,
            "error": job.error_message or "",
            "processed": job.processed_count,
            "mapped": mapped,
            "requests": len(job.http_exchange_ids),
            "http_seconds": sum(job.http_exchange_ids.mapped("duration_ms")) / 1000,
            "loaded_mb": loaded_mb,
            "peak_mb": _peak_mb(),
        }


# ---- The driver


class Databases:
    """SQL on the benchmark's cluster, in autocommit."""

    def __init__(self, settings):
        self.settings = settings

    def connect(self, dbname="postgres"):
        import psycopg2

        conn = psycopg2.connect(
            dbname=dbname, host=self.settings.host, port=self.settings.port,
            user=self.settings.user,
        )  # fmt: skip
        conn.autocommit = True
        return conn

    def copy(self, template: str, database: str, data_dir: Path) -> None:
        """``database`` afresh as a copy of ``template`` (with its filestore)."""
        conn = self.connect()
        try:
            with conn.cursor() as cr:
                # Our own names (constants of this file), quoted all the same.
                cr.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                cr.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        finally:
            conn.close()
        filestore = data_dir / "filestore"
        shutil.rmtree(filestore / database, ignore_errors=True)
        if (filestore / template).is_dir():
            shutil.copytree(filestore / template, filestore / database)


def child(conf: Path, kind: str, database: str, *extra: str) -> dict:
    return harness.run_child("contacts.py", kind, conf, "--database", database, *extra)


def start_other(session: harness.Session, databases: Databases, args) -> OtherOdoo:
    runtime = OdooRuntime(
        launcher=[*common.python_cmd(), "-m", "odoo"],
        options={
            "addons_path": ",".join(session.addons),
            "data_dir": str(session.base / "data"),
            **session.cluster.settings().odoo_options(),
        },
        connect=databases.connect,
        state_dir=session.base / "other",
        python=common.python_cmd()[0],
        env=common.child_env(),
    )
    other = OtherOdoo(runtime, OTHER_DATABASE)
    harness.say(
        f"the other Odoo: installing contacts, then {args.companies:,} companies and "
        f"{args.contacts:,} contacts ..."
    )
    start = time.monotonic()
    session.on_exit(other.stop)
    other.create(companies=args.companies, contacts=args.contacts, seed=args.seed)
    other.start(port=harness.free_port(), log_level="warn")
    harness.say(f"the other Odoo serves {other.url} ({time.monotonic() - start:.0f} s)")
    return other


def run(session: harness.Session, args) -> None:
    pages = [int(page) for page in args.pages.split(",") if page]
    conf = session.install((MODULE,), TEMPLATE)
    databases = Databases(session.cluster.settings())
    other = start_other(session, databases, args)
    connection_file = session.base / "connection.json"
    connection_file.write_text(json.dumps(other.connection.as_dict()))
    child(conf, "setup", TEMPLATE, "--connection", str(connection_file))
    connection_file.unlink()
    proxy = DelayProxy(int(other.url.rsplit(":", 1)[1]), delay=args.delay_ms / 1000).start()
    session.on_exit(proxy.stop)
    routes = {"direct": other.url, "proxy": proxy.url}
    results = {}
    for round_number in range(1, args.rounds + 1):
        for route, url in routes.items():
            for page in pages:
                harness.say(f"round {round_number}: {route}, pages of {page} ...")
                databases.copy(TEMPLATE, DATABASE, session.base / "data")
                before = proxy.requests
                result = child(conf, "run", DATABASE, "--url", url, "--page", str(page))
                result["proxied"] = proxy.requests - before
                key = (route, page)
                best = results.get(key)
                if best is None or result["seconds"] < best["seconds"]:
                    results[key] = result
    print_report(results, pages, args, session.conditions())


def main(argv=None) -> int:
    return harness.main(
        "contacts",
        parse_args(argv),
        run,
        children={"setup": child_setup, "run": child_run},
        keep=True,
    )


def print_report(results, pages, args, conditions):
    total = args.companies + args.contacts
    print(
        f"\nContacts sync: {args.companies:,} companies + {args.contacts:,} contacts from "
        f"another Odoo over JSON-RPC, one iHub run each (best of {args.rounds}); {conditions}\n"
    )
    header = (
        f"{'route':<16} {'page':>5} {'requests':>8} {'HTTP s':>7} {'seconds':>8} "
        f"{'contacts/s':>10} {'vs page ' + str(pages[0]):>12} {'vs direct':>9} {'peak MB':>8}"
    )
    print(header)
    print("-" * len(header))
    delay = f"+{args.delay_ms:g} ms"
    for route in ("direct", "proxy"):
        for page in pages:
            result = results[(route, page)]
            rate = total / result["seconds"]
            first = total / results[(route, pages[0])]["seconds"]
            direct = total / results[("direct", page)]["seconds"]
            label = route if route == "direct" else f"proxy {delay}"
            print(
                f"{label:<16} {page:>5} {result['requests']:>8} {result['http_seconds']:>7.2f} "
                f"{result['seconds']:>8.2f} "
                f"{rate:>10,.0f} {rate / first:>11.2f}x {rate / direct:>8.2f}x "
                f"{result['peak_mb']:>8.0f}"
            )
    for (route, page), result in sorted(results.items()):
        if result["state"] != "done" or result["mapped"] != total:
            print(
                f"  !! {route} page {page}: run {result['state']}, {result['mapped']}/{total} "
                f"contacts imported {result['error'][:300]}"
            )
        if route == "proxy" and result["proxied"] != result["requests"]:
            print(f"  !! {route} page {page}: {result['proxied']} requests through the proxy")
    print(
        "\nrequests = HTTP requests the run sent and HTTP s = the time it waited for their "
        "answers (iHub's records of the run's exchanges); contacts/s = (companies + contacts) "
        "/ the run's wall time, from the runner's claim to its end; vs page "
        f"{pages[0]} and vs direct are ratios of contacts/s (higher: faster); peak MB = the "
        "measuring process's maximum resident set."
    )


if __name__ == "__main__":
    sys.exit(main())
