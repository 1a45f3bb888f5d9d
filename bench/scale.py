#!/usr/bin/env python3
"""iHub scale benchmark: do the dashboard, the integration form and the Runs list cost the same
whatever the size of the history?

    python3 bench/scale.py [--sizes 10000,100000,1000000] [--integrations 10] [--calls 15]

Starts a PostgreSQL cluster of its own in a temporary folder, installs ``ihub_bench`` (iHub and
a do-nothing integration type) in a new database, starts an Odoo server and creates the
integrations through it. Then, for each size in turn, fills the history with bulk SQL up to
that many events (``ihub_log``) and a tenth as many runs (``ihub_job``) spread over the past
year, VACUUM ANALYZEs, and times the calls the web client makes, over HTTP JSON-RPC on the
loopback, logged in as admin: the dashboard (``web_search_read`` of the kanban), the
integration form (``web_read`` with the form's field spec) and the Runs list
(``web_search_read`` of the list, 80 rows). Prints the median of each per size, its ratio to
the first size and the goal; asserts nothing. Everything it started is stopped and removed at
the end. See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import harness
import psycopg2
from harness import DevError, say

DATABASE = "ihub_scale"
MODULES = ("ihub_bench",)
LOGIN = PASSWORD = "admin"  # a database made with -i has admin/admin; loopback only
GOAL_RATIO = 2.0  # at most this many times the figure of the first size
GOAL_SECONDS = 0.3  # and below this
CALLS = ("dashboard", "form", "runs list")

# Fields that widgets need besides their own (the web client's ``fieldDependencies``), for the
# widgets iHub's views use. Values are field types.
WIDGET_DEPENDENCIES = {
    "image": {"write_date": "datetime"},
    "kanban_activity": {
        "activity_exception_decoration": "selection",
        "activity_exception_icon": "char",
        "activity_state": "selection",
        "activity_summary": "char",
        "activity_type_icon": "char",
        "activity_type_id": "many2one",
    },
}
DEFAULT_X2MANY_LIMIT = 40  # a sub-list without a limit attribute
KANBAN_LIMIT = 40  # the web client's page sizes
LIST_LIMIT = 80
COUNT_LIMIT = 10001  # the web client counts up to 10,000 (+1 to know there are more)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from exc
    if not values or min(values) < 10 or values != sorted(set(values)):
        raise argparse.ArgumentTypeError(f"growing sizes >= 10 expected: {text!r}")
    return values


def parse_args(argv=None) -> argparse.Namespace:
    """The command line."""
    parser = harness.argument_parser("scale.py", __doc__)
    parser.add_argument(
        "--sizes", type=_int_list, default=[10_000, 100_000, 1_000_000], metavar="N[,N...]",
        help="growing numbers of events; runs are a tenth of them "
        "(10000,100000,1000000)",
    )  # fmt: skip
    parser.add_argument(
        "--integrations", type=int, default=10, help="integrations sharing the history (10)"
    )
    parser.add_argument("--calls", type=int, default=15, help="timed calls of each kind (15)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls first (3)")
    parser.add_argument("--port", type=int, help="Odoo HTTP port (default: a free one)")
    parser.add_argument(
        "--addons-first", metavar="DIR",
        help="an addons folder put before the repository's, e.g. an export of another "
        "version of ihub/ (git archive) to compare with",
    )  # fmt: skip
    parser.add_argument(
        "--show-specs", action="store_true", help="print the three calls' arguments to stderr"
    )
    args = parser.parse_args(argv)
    if args.integrations < 1 or args.calls < 1 or args.warmup < 0:
        parser.error("--integrations and --calls must be >= 1, --warmup >= 0")
    return args


# ---- JSON-RPC, as the web client speaks it


class RpcError(DevError):
    """The server answered a JSON-RPC call with an error."""


class WebClient:
    """A session on the Odoo server: ``/web/session/authenticate`` then ``call_kw``."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.context: dict = {}
        self._id = 0

    def _post(self, path: str, params: dict):
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "id": self._id, "params": params})
        request = urllib.request.Request(
            self.base + path, body.encode(), {"Content-Type": "application/json"}
        )
        with self.opener.open(request, timeout=300) as response:
            answer = json.loads(response.read())
        if answer.get("error"):
            error = answer["error"]
            message = error.get("data", {}).get("message") or error.get("message")
            raise RpcError(f"{path}: {message}")
        return answer["result"]

    def login(self, database: str) -> None:
        """Log in as admin; keep the user context the web client sends with each call."""
        info = self._post(
            "/web/session/authenticate", {"db": database, "login": LOGIN, "password": PASSWORD}
        )
        user_context = info["user_context"]
        companies = info.get("user_companies") or {}
        company_id = (companies.get("current_company") if companies else None) or info.get(
            "company_id"
        )
        self.context = {
            "lang": user_context.get("lang", "en_US"),
            "tz": user_context.get("tz") or "UTC",
            "uid": info["uid"],
            "allowed_company_ids": [company_id] if company_id else [],
        }

    def call(self, model: str, method: str, *args, **kwargs):
        """``/web/dataset/call_kw/model/method``, with the user context."""
        kwargs["context"] = {**self.context, **kwargs.get("context", {})}
        return self._post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )


# ---- Field specs, built from the views the way the web client builds them


def _models_fields(views: dict) -> dict[str, dict]:
    """{model: {field: description}} from a ``get_views`` answer (shapes of 17.x and 18.0)."""
    return {
        model: info.get("fields", info) if isinstance(info, dict) else {}
        for model, info in views["models"].items()
    }


def _own_fields(node):
    """The <field> elements of a view, not those of the sub-views of its x2many fields."""
    for child in node:
        if child.tag == "field":
            yield child
            continue  # a field's children are its sub-views
        yield from _own_fields(child)


def fields_spec(node, model: str, models: dict[str, dict]) -> dict:
    """The ``specification`` the web client sends for the view (or sub-view) ``node``."""
    fields = models[model]
    spec: dict = {}
    for element in _own_fields(node):
        name = element.get("name")
        if name not in fields:
            continue
        spec[name] = _field_spec(element, fields[name], models)
        # get_views describes only the fields its views show: dependencies are added as is.
        for dependency, kind in WIDGET_DEPENDENCIES.get(element.get("widget") or "", {}).items():
            if dependency not in spec:
                spec[dependency] = {"fields": {"display_name": {}}} if kind == "many2one" else {}
    return spec


def _field_spec(element, field: dict, models: dict[str, dict]) -> dict:
    kind = field["type"]
    if kind in ("many2one", "reference"):
        return {"fields": {"display_name": {}}, "context": {}}
    if kind in ("one2many", "many2many"):
        sub_view = next((child for child in element if child.tag in ("list", "tree")), None)
        if sub_view is None or field.get("relation") not in models:
            return {}
        sub = {
            "fields": fields_spec(sub_view, field["relation"], models),
            "context": {},
            "limit": int(sub_view.get("limit") or DEFAULT_X2MANY_LIMIT),
        }
        if sub_view.get("default_order"):
            sub["order"] = sub_view.get("default_order")
        return sub
    return {}


def view_specs(web: WebClient) -> dict:
    """The three calls' arguments: (model, method, args, kwargs) by call name."""
    integration = web.call(
        "ihub.integration", "get_views", [[False, "kanban"], [False, "form"]], options={}
    )
    job = web.call("ihub.job", "get_views", [[False, "list"]], options={})
    models = {**_models_fields(integration), **_models_fields(job)}
    kanban = ElementTree.fromstring(integration["views"]["kanban"]["arch"])
    form = ElementTree.fromstring(integration["views"]["form"]["arch"])
    runs = ElementTree.fromstring(job["views"]["list"]["arch"])
    context = {"bin_size": True}
    return {
        "dashboard": (
            "ihub.integration",
            "web_search_read",
            {
                "domain": [],
                "specification": fields_spec(kanban, "ihub.integration", models),
                "offset": 0,
                "limit": KANBAN_LIMIT,
                "order": "",
                "count_limit": COUNT_LIMIT,
                "context": context,
            },
        ),
        "form": (
            "ihub.integration",
            "web_read",
            {
                # The form controller adds display_name (the breadcrumb) to the view's fields.
                "specification": {
                    **fields_spec(form, "ihub.integration", models),
                    "display_name": {},
                },
                "context": context,
            },
        ),
        "runs list": (
            "ihub.job",
            "web_search_read",
            {
                "domain": [],
                "specification": fields_spec(runs, "ihub.job", models),
                "offset": 0,
                "limit": LIST_LIMIT,
                "order": runs.get("default_order") or "",
                "count_limit": COUNT_LIMIT,
                "context": context,
            },
        ),
    }


# ---- The history, in bulk SQL


def _columns(cr, table: str) -> set[str]:
    cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])
    return {row[0] for row in cr.fetchall()}


def _unfilled_required(cr, table: str, filled: set[str]) -> list[str]:
    """NOT NULL columns without a default that the bulk insert does not fill."""
    cr.execute(
        """
        SELECT column_name FROM information_schema.columns
         WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL
        """,
        [table],
    )
    return sorted({row[0] for row in cr.fetchall()} - filled)


# Row g of a step: integration number g % n, a moment of the past year (random, as history
# grows by being added to), a level mix of ~90 % info, 8 % warning, 2 % error.
LOG_INSERT = """
    INSERT INTO ihub_log (date, level, summary, integration_id, company_id, user_id,
                          create_uid, create_date, write_uid, write_date)
    SELECT moment,
           CASE WHEN g %% 100 < 90 THEN 'info' WHEN g %% 100 < 98 THEN 'warning'
                ELSE 'error' END,
           CASE WHEN g %% 100 < 90 THEN 'Imported ' || (g %% 997) || ' records'
                WHEN g %% 100 < 98 THEN 'Skipped record ' || g || ': missing reference'
                ELSE 'Run failed: the remote system answered 503' END,
           integration.id, integration.company_id, %(uid)s, %(uid)s, moment, %(uid)s, moment
      FROM generate_series(%(first)s, %(last)s) AS g
      JOIN ihub_integration integration
        ON integration.id = (%(ids)s::integer[])[1 + g %% %(count)s]
     CROSS JOIN LATERAL (
           SELECT (now() at time zone 'UTC') - random() * interval '365 days' AS moment
           ) AS t
"""

# Runs: mostly scheduled, 5 % manual; 97 % done, 3 % failed.
JOB_INSERT = """
    INSERT INTO ihub_job (integration_id, company_id, trigger, lane, state, date_from, date_to,
                          advances_watermark, priority, queued_at, started_at, ended_at,
                          duration, attempt, max_attempts, processed_count, succeeded_count,
                          failed_count, error_message, user_id, create_uid, create_date,
                          write_uid, write_date)
    SELECT integration.id, integration.company_id,
           CASE WHEN g %% 20 = 0 THEN 'manual' ELSE 'scheduled' END, 'main',
           CASE WHEN g %% 100 < 97 THEN 'done' ELSE 'failed' END,
           queued - interval '1 hour', queued, g %% 20 != 0, 10,
           queued, queued + interval '1 second', queued + interval '1 second' + seconds,
           extract(epoch FROM seconds), 1, 4, g %% 50, g %% 50,
           CASE WHEN g %% 100 < 97 THEN 0 ELSE 1 END,
           CASE WHEN g %% 100 < 97 THEN NULL ELSE 'The remote system answered 503' END,
           %(uid)s, %(uid)s, queued, %(uid)s, queued
      FROM generate_series(%(first)s, %(last)s) AS g
      JOIN ihub_integration integration
        ON integration.id = (%(ids)s::integer[])[1 + g %% %(count)s]
     CROSS JOIN LATERAL (
           SELECT (now() at time zone 'UTC') - random() * interval '365 days' AS queued,
                  random() * interval '60 seconds' AS seconds
           ) AS t
"""
LOG_FILLED = {
    "id", "date", "level", "summary", "integration_id", "company_id", "user_id",
    "create_uid", "create_date", "write_uid", "write_date",
}  # fmt: skip
JOB_FILLED = {
    "id", "integration_id", "company_id", "trigger", "lane", "state", "date_from", "date_to",
    "advances_watermark", "priority", "queued_at", "started_at", "ended_at", "duration",
    "attempt", "max_attempts", "processed_count", "succeeded_count", "failed_count",
    "error_message", "user_id", "create_uid", "create_date", "write_uid", "write_date",
}  # fmt: skip


class History:
    """Grows the events and runs of the integrations with bulk SQL."""

    def __init__(self, db_settings, integration_ids: list[int], uid: int):
        self.conn = psycopg2.connect(
            dbname=DATABASE, host=db_settings.host, port=db_settings.port, user=db_settings.user
        )
        self.ids, self.uid = integration_ids, uid
        self.events = self.runs = 0

    def check_columns(self) -> list[str]:
        """Warnings about columns of the current models that the inserts leave out."""
        notes = []
        with self.conn.cursor() as cr:
            for table, filled in (("ihub_log", LOG_FILLED), ("ihub_job", JOB_FILLED)):
                missing = _unfilled_required(cr, table, filled)
                if missing:
                    notes.append(f"{table}: required columns not filled: {', '.join(missing)}")
                new = sorted(_columns(cr, table) - filled)
                notes.append(f"{table}: columns left at their default/NULL: {', '.join(new)}")
        self.conn.rollback()
        return notes

    def grow(self, events: int) -> float:
        """Add events (and runs, a tenth) up to ``events``; VACUUM ANALYZE. Return seconds."""
        start = time.monotonic()
        runs = events // 10
        params = {"uid": self.uid, "ids": self.ids, "count": len(self.ids)}
        with self.conn.cursor() as cr:
            if events > self.events:
                cr.execute(LOG_INSERT, {**params, "first": self.events + 1, "last": events})
            if runs > self.runs:
                cr.execute(JOB_INSERT, {**params, "first": self.runs + 1, "last": runs})
        self.conn.commit()
        self.events, self.runs = events, runs
        self.conn.autocommit = True
        try:
            with self.conn.cursor() as cr:
                cr.execute("VACUUM ANALYZE ihub_log, ihub_job")
        finally:
            self.conn.autocommit = False
        return time.monotonic() - start

    def sizes(self) -> str:
        """Row counts and on-disk sizes (tables and indexes) of the two tables."""
        with self.conn.cursor() as cr:
            cr.execute(
                """
                SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid))
                  FROM pg_stat_user_tables WHERE relname IN ('ihub_log', 'ihub_job')
              ORDER BY relname DESC
                """
            )
            rows = cr.fetchall()
        self.conn.rollback()
        return ", ".join(f"{name} {count:,} rows {size}" for name, count, size in rows)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


# ---- Measuring


def time_calls(web: WebClient, specs: dict, form_id: int, calls: int, warmup: int) -> dict:
    """Median seconds of ``calls`` timed calls of each kind, after ``warmup`` untimed ones."""
    medians = {}
    for name in CALLS:
        model, method, kwargs = specs[name]
        args = [[form_id]] if method == "web_read" else []
        samples = []
        for number in range(warmup + calls):
            start = time.perf_counter()
            web.call(model, method, *args, **kwargs)
            if number >= warmup:
                samples.append(time.perf_counter() - start)
        medians[name] = statistics.median(samples)
    return medians


def print_report(results: list[dict], args, notes: list[str], conditions: str) -> None:
    """One row per size: the median of each call, its ratio to the first size, the goal."""
    first = results[0]["medians"]
    header = ["Events", "Runs"]
    for name in CALLS:
        header += [f"{name}, s", "ratio", "met"]
    rows = [header]
    for result in results:
        row = [f"{result['events']:,}", f"{result['events'] // 10:,}"]
        for name in CALLS:
            seconds = result["medians"][name]
            ratio = seconds / first[name]
            met = ratio <= GOAL_RATIO and seconds < GOAL_SECONDS
            row += [f"{seconds:.3f}", f"{ratio:.2f}", "yes" if met else "NO"]
        rows.append(row)
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]

    print()
    print(
        f"iHub scale benchmark: {args.integrations} integrations, median of {args.calls} calls "
        f"(after {args.warmup}) over HTTP JSON-RPC as admin; {conditions}"
    )
    print(
        f"Goal per call: <= {GOAL_RATIO:g} x the figure at {results[0]['events']:,} events "
        f"and < {GOAL_SECONDS:g} s."
    )
    print("  ".join(cell.rjust(width) for cell, width in zip(header, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for row in rows[1:]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    print()
    print(
        "dashboard = web_search_read(ihub.integration, kanban spec, limit 40); form = "
        "web_read(one integration, form spec with its sub-lists); runs list = "
        "web_search_read(ihub.job, list spec, limit 80, count_limit 10001)."
    )
    for result in results:
        print(
            f"  {result['events']:>11,} events: history grown in {result['grow_seconds']:.1f} s "
            f"(insert + VACUUM ANALYZE); {result['sizes']}"
        )
    for note in notes:
        print(f"  note: {note}")


# ---- Orchestration


def setup_integrations(web: WebClient, count: int) -> list[int]:
    """Create ``count`` bench integrations through the server; return their ihub.integration ids."""
    web.call(
        "ihub.integration.bench",
        "create",
        [{"name": f"Scale {number:02d}"} for number in range(count)],
        context={"tracking_disable": True, "mail_create_nolog": True},
    )
    return web.call("ihub.integration", "search", [], order="id")


def run(session: harness.Session, args) -> None:
    """Set up, grow and measure, print."""
    addons_first = [str(Path(args.addons_first).resolve())] if args.addons_first else []
    # No cron threads: nothing runs beside the measured calls.
    session.install(MODULES, DATABASE, addons_first=addons_first, port=args.port)
    session.start_server("scale-server")
    web = WebClient(session.port)
    web.login(DATABASE)
    integration_ids = setup_integrations(web, args.integrations)
    specs = view_specs(web)
    if args.show_specs:
        for name, (model, method, kwargs) in specs.items():
            say(f"{name}: {model}.{method} {json.dumps(kwargs, sort_keys=True)}")
    history = History(session.cluster.settings(), integration_ids, web.context["uid"])
    session.on_exit(history.close)
    notes = history.check_columns()
    results = []
    for events in args.sizes:
        say(f"growing the history to {events:,} events and {events // 10:,} runs ...")
        grow_seconds = history.grow(events)
        say(f"grown in {grow_seconds:.1f} s; timing the calls ...")
        medians = time_calls(web, specs, integration_ids[0], args.calls, args.warmup)
        say("  ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in medians.items()))
        results.append(
            {
                "events": events,
                "grow_seconds": grow_seconds,
                "medians": medians,
                "sizes": history.sizes(),
            }
        )
    print_report(results, args, notes, session.conditions())


def main(argv=None) -> int:
    return harness.main("scale", parse_args(argv), run)


if __name__ == "__main__":
    sys.exit(main())
