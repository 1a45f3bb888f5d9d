#!/usr/bin/env python3
"""iHub developer commands: check prerequisites, run Odoo with iHub, run the tests.

Usage (from anywhere; paths are resolved from this file):

    python3 scripts/dev.py check                 # prerequisites, OK/MISSING each
    python3 scripts/dev.py run [--port 8069]     # serve iHub with demo data (admin/admin)
    python3 scripts/dev.py test [-- PYTEST ARGS] # fresh test database + pytest
    python3 scripts/dev.py start-db | stop-db    # the embedded PostgreSQL cluster
    python3 scripts/dev.py pot [--check]         # the addons' .pot translation templates

Only the standard library is imported here; Odoo runs in subprocesses.
Exit codes: 0 success, 1 failure, 2 missing prerequisite, else pytest's own.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devtools import commands, other_odoo_dev, pot  # noqa: E402
from devtools.common import DevError  # noqa: E402


def add_test_options(parser: argparse.ArgumentParser, database: str) -> None:
    """The options of a test run (``test``, and ``screenshots``, which is one)."""
    parser.add_argument("--database", default=database, help=f"database (default: {database})")
    parser.add_argument(
        "--http-port",
        type=int,
        default=int(os.environ.get("IHUB_TEST_HTTP_PORT", "8069")),
        help="port of the server browser tests start (default: $IHUB_TEST_HTTP_PORT or 8069); "
        "give each test run on one machine its own",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="dev.py",
        description="Run and test the iHub Odoo addons.",
        epilog="Database server: the embedded cluster in .local/postgres unless "
        "IHUB_DB_HOST/IHUB_DB_PORT/IHUB_DB_USER/IHUB_DB_PASSWORD (or PGHOST/PGPORT/"
        "PGUSER/PGPASSWORD) are set.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="check the prerequisites")
    check.set_defaults(func=commands.cmd_check)

    run = sub.add_parser("run", help="serve Odoo with iHub and its demo data")
    run.add_argument("--database", default="ihub", help="database name (default: ihub)")
    run.add_argument("--port", type=int, default=8069, help="HTTP port (default: 8069)")
    run.add_argument("--interface", default="127.0.0.1", help="HTTP interface (default: 127.0.0.1)")
    run.add_argument(
        "--update", action="store_true", help="update the iHub addons (-u) before serving"
    )
    other_odoo_dev.add_arguments(run)
    run.set_defaults(func=commands.cmd_run)

    for name, database, func, helptext, description in (
        (
            "test",
            "ihub_test",
            commands.cmd_test,
            "run the test suite on a fresh database",
            "Drop and recreate the test database with the iHub addons and demo data, then "
            "run pytest. Arguments after -- go to pytest (e.g. -- -x -k foo).",
        ),
        (
            "screenshots",
            "ihub_shots",
            commands.cmd_screenshots,
            "remake the README's screenshots (docs/screenshots/*.png) with the browser tours",
            "Run the end-to-end browser tours on a fresh test database with IHUB_SCREENSHOTS "
            "set: their named steps save the pages they show.",
        ),
    ):
        cmd = sub.add_parser(name, help=helptext, description=description)
        add_test_options(cmd, database)
        cmd.set_defaults(func=func)

    pot_cmd = sub.add_parser(
        "pot",
        help="export the addons' translation templates (<addon>/i18n/<addon>.pot)",
        description="Install the addons in a fresh database and export each one's .pot "
        "file with Odoo; files whose terms did not change are left alone. Run it after "
        "changing or merging user-visible strings.",
    )
    pot_cmd.add_argument("--database", default="ihub_pot", help="database (default: ihub_pot)")
    pot_cmd.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )
    pot_cmd.set_defaults(func=pot.cmd_pot)

    for name, helptext, func in (
        ("start-db", "start the embedded PostgreSQL cluster", commands.cmd_start_db),
        ("stop-db", "stop the embedded PostgreSQL cluster", commands.cmd_stop_db),
    ):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("--dir", help="cluster directory (default: .local/postgres)")
        if name == "start-db":
            cmd.add_argument(
                "--print-env",
                action="store_true",
                help="print 'export IHUB_DB_...' lines for eval in a shell",
            )
        cmd.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (arguments after ``--`` are kept for pytest) and run the subcommand."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        index = argv.index("--")
        argv, extra = argv[:index], argv[index + 1 :]
    args = build_parser().parse_args(argv)
    if extra and args.command != "test":
        print(f"dev.py: error: {args.command} takes no arguments after --", file=sys.stderr)
        return 2
    args.pytest_args = extra
    try:
        return args.func(args)
    except DevError as exc:
        print(f"dev.py {args.command}: error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"dev.py {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
