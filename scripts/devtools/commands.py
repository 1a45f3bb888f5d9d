"""The dev.py subcommands: check, run, test, start-db, stop-db."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import odoo, other_odoo_dev, pgcluster, prereq
from .common import (
    ADDONS,
    EXIT_MISSING_PREREQUISITE,
    REPO_ROOT,
    DevError,
    child_env,
    python_cmd,
    rel,
    repo_addons,
    say,
)
from .dbserver import (
    DbSettings,
    clone_database,
    configured_server,
    drop_database,
    module_states,
)

ADMIN_LOGIN = ADMIN_PASSWORD = "admin"  # what Odoo gives the admin of a database made by -i


def database_settings(env: prereq.Environment) -> DbSettings:
    """The configured server, else the embedded cluster (started if needed)."""
    if env.server is not None:
        say(f"using the database server configured by {env.server.source}")
        return env.server
    return pgcluster.Cluster(pgcluster.default_dir(), env.pg_bindir).start()


def cmd_check(_args) -> int:
    """Print every prerequisite with OK/MISSING; exit 2 when one is missing."""
    prereq.run_checks("check", verbose=True)
    print("All prerequisites are met.")
    return 0


def _port_in_use(interface: str, port: int) -> bool:
    host = "127.0.0.1" if interface in ("", "0.0.0.0") else interface
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def _print_banner(args, conf: Path) -> None:
    url = f"http://localhost:{args.port}"
    print(
        f"\n  iHub is starting at  {url}\n"
        f"  database:            {args.database}\n"
        f"  login / password:    {ADMIN_LOGIN} / {ADMIN_PASSWORD}\n"
        f"  Odoo config:         {rel(conf)}\n"
        "  Stop the server with Ctrl+C.\n",
        flush=True,
    )


def _print_stop_hint(env: prereq.Environment) -> None:
    if env.server is None:
        print(
            "The PostgreSQL cluster is still running for the next run; stop it with: "
            "python3 scripts/dev.py stop-db",
            flush=True,
        )


def cmd_run(args) -> int:
    """Create (first time) or reuse the database, then serve Odoo on --port."""
    env = prereq.run_checks("run")
    if _port_in_use(args.interface, args.port):
        raise DevError(f"port {args.port} is already in use; choose another with --port")
    other_odoo_dev.check_arguments(args)
    db = database_settings(env)
    options = odoo.machine_options(env.extra_addons_paths, db, args.database)
    options.update({"http_port": str(args.port), "without_demo": "False"})
    conf = odoo.write_config(odoo.RUN_CONF, options)
    states = module_states(db, args.database, ADDONS)
    if any(states.get(name) != "installed" for name in ADDONS):
        say(f"database '{args.database}' has no iHub yet: installing it with demo data")
        odoo.install_modules(conf, db, args.database, ADDONS, "-i", log_level="info")
    elif args.update:
        odoo.install_modules(conf, db, args.database, ADDONS, "-u", log_level="info")
    else:
        say(f"reusing database '{args.database}' (pass --update to update the addons)")
    other = None
    try:
        if not args.no_other_odoo:
            other = other_odoo_dev.start(env.extra_addons_paths, db, args)
            other_odoo_dev.configure_sample_integration(conf, args.database)
            other_odoo_dev.print_banner(other)
        _print_banner(args, conf)
        return odoo.serve(conf, args.port, args.interface)
    finally:
        if other is not None:
            other.stop()
            print("Stopped the other Odoo.", flush=True)
        _print_stop_hint(env)


def _paths_given(extra: list[str]) -> bool:
    """Whether the pytest arguments name test paths (else the whole suite runs)."""
    return any(not arg.startswith("-") and (REPO_ROOT / arg).exists() for arg in extra)


def _pytest_command(
    conf: Path, database: str, addons: tuple[str, ...], extra: list[str]
) -> list[str]:
    """pytest on ``addons`` (or only on the paths given in ``extra``)."""
    targets = [] if _paths_given(extra) else list(addons)
    return [
        *python_cmd(),
        "-m",
        "pytest",
        f"--odoo-config={conf}",
        f"--odoo-database={database}",
        "--odoo-http",
        # Odoo logs warnings; conftest.py fails the tests that cause unexpected ones.
        "--odoo-log-level=warn",
        *targets,
        *extra,
    ]


def cmd_test(args) -> int:
    """Fresh test database with the addons and demo data, then pytest; return its exit code."""
    env = prereq.run_checks("test")
    db = database_settings(env)
    options = odoo.machine_options(env.extra_addons_paths, db, args.database)
    options["http_port"] = str(args.http_port)
    conf = odoo.write_config(odoo.TEST_RUNTIME_CONF, options, base=odoo.TEST_CONF)
    # iHub alone is installed once, in a template; the test database is a copy of it with the
    # other addons added, and tests that need a fresh database (IHUB_TEST_TEMPLATE) copy it too.
    template = f"{args.database}_core"
    say(f"dropping and recreating test databases '{template}' and '{args.database}'")
    for name in (template, args.database):
        drop_database(db, name)
        shutil.rmtree(odoo.DATA_DIR / "filestore" / name, ignore_errors=True)
    addons = repo_addons()
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The whole suite starts other Odoo servers, from a template database of their own
        # (contacts) that the first of them would install, on a new database server, in the
        # middle of the tests: install it beside iHub instead, on the machine's other core.
        other_template = None
        if not _paths_given(args.pytest_args):
            other_template = pool.submit(other_odoo_dev.ensure_template, env.extra_addons_paths, db)
        odoo.install_modules(conf, db, template, ("ihub",), "-i", log_level="warn")
        clone_database(db, template, args.database)
        filestore = odoo.DATA_DIR / "filestore"
        if (filestore / template).is_dir():
            shutil.copytree(filestore / template, filestore / args.database)
        odoo.install_modules(conf, db, args.database, addons, "-i", log_level="warn")
        if other_template is not None:
            seconds = other_template.result()
            if seconds is not None:
                say(f"the other Odoo's template (contacts) was installed in {seconds:.1f} s")
    cmd = _pytest_command(conf, args.database, addons, args.pytest_args)
    say(f"running: {shlex.join(cmd)}")
    start = time.monotonic()
    code = subprocess.run(
        cmd,
        cwd=REPO_ROOT,
        env={**child_env(), "IHUB_TEST_TEMPLATE": template},
        stdin=subprocess.DEVNULL,
        check=False,
    ).returncode
    say(f"pytest took {time.monotonic() - start:.1f} s and exited with {code}")
    if code == 5:
        print(
            "FAILED: pytest collected no tests (exit code 5). The addons' tests belong in "
            "<addon>/tests/test_*.py; check the -k/-m filters or paths you passed.",
            flush=True,
        )
    return code


# The tours whose steps make the README's pictures, and where they go.
SCREENSHOT_TESTS = ("ihub_demo_integration/tests/test_ui_e2e.py",)
SCREENSHOT_DIR = REPO_ROOT / "docs" / "screenshots"


def cmd_screenshots(args) -> int:
    """``test`` on the end-to-end tours, which save their named pages in docs/screenshots."""
    os.environ["IHUB_SCREENSHOTS"] = str(SCREENSHOT_DIR)
    args.pytest_args = [*SCREENSHOT_TESTS, *args.pytest_args]
    code = cmd_test(args)
    if code == 0:
        say(f"screenshots in {SCREENSHOT_DIR.relative_to(REPO_ROOT)}: check them, then commit")
    return code


def _cluster_for(args, create: bool) -> pgcluster.Cluster | None:
    if args.dir:
        return pgcluster.Cluster(Path(args.dir))
    base = pgcluster.default_dir() if create else pgcluster.existing_dir()
    return pgcluster.Cluster(base) if base else None


def cmd_start_db(args) -> int:
    """Start the embedded cluster (or the one in --dir); --print-env prints shell exports."""
    server = configured_server()
    if server is not None and not args.dir:
        say(f"a database server is configured by {server.source}; nothing to start")
        return 0
    bindir, _version, error = pgcluster.find_binaries()
    problem = f"PostgreSQL >= 13 server binaries {error}" if error else pgcluster.runner_problem()
    if problem:
        raise DevError(problem, EXIT_MISSING_PREREQUISITE)
    cluster = _cluster_for(args, create=True)
    cluster.bindir = bindir
    settings = cluster.start()
    if args.print_env:
        for name, value in settings.env_exports().items():
            print(f"export {name}={shlex.quote(value)}")
    else:
        print(f"PostgreSQL is running: {settings.describe()} (stop it with: dev.py stop-db)")
    return 0


def cmd_stop_db(args) -> int:
    """Stop the embedded cluster (or the one in --dir), and the other Odoo's server if left."""
    other_odoo_dev.stop_leftovers()
    cluster = _cluster_for(args, create=False)
    if cluster is None or not cluster.initialized():
        print("No embedded PostgreSQL cluster found; nothing to stop.")
        return 0
    if cluster.stop():
        print(f"Stopped the PostgreSQL cluster in {rel(cluster.base)}.")
    else:
        print(f"The PostgreSQL cluster in {rel(cluster.base)} was not running.")
    return 0
