"""``dev.py run``'s other Odoo: the second server the contacts-sync demo imports from.

The database (``ihub_other`` by default) is created once with sample contacts and reused; its
server runs on 127.0.0.1:8070 while the main server runs, and stops with it. The connection
details reach the main database as system parameters (``PARAMS``) and a file of their own
(``connection_file``), for the demo integration to pick up.
"""

from __future__ import annotations

import subprocess

from .common import LOCAL_DIR, DevError, child_env, python_cmd, rel, say
from .dbserver import DbSettings, _connect
from .odoo import DATA_DIR, addons_path
from .other_odoo import (
    ADMIN_LOGIN,
    ADMIN_PASSWORD,
    Connection,
    OdooRuntime,
    OtherOdoo,
    OtherOdooError,
    port_in_use,
    stop_recorded_servers,
)

STATE_DIR = LOCAL_DIR / "other-odoo"
DEFAULT_PORT = 8070
DEFAULT_DATABASE = "ihub_other"
# Enough to see an import at work in the UI, small enough to create in seconds.
DEMO_COMPANIES, DEMO_CONTACTS, DEMO_SEED = 20, 100, 1
# ir.config_parameter keys in the main database -> Connection attribute.
PARAMS = {
    "ihub_demo.other_odoo_url": "url",
    "ihub_demo.other_odoo_db": "database",
    "ihub_demo.other_odoo_login": "login",
    "ihub_demo.other_odoo_key": "api_key",
}


def add_arguments(parser) -> None:
    """The ``run`` options of the other Odoo."""
    parser.add_argument(
        "--other-port",
        type=int,
        default=DEFAULT_PORT,
        help=f"HTTP port of the other Odoo of the contacts-sync demo (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--other-database",
        default=DEFAULT_DATABASE,
        help=f"database of the other Odoo (default: {DEFAULT_DATABASE})",
    )
    parser.add_argument("--no-other-odoo", action="store_true", help="do not start the other Odoo")


def check_arguments(args) -> None:
    """Fail before any work when the other Odoo could not start."""
    if args.no_other_odoo:
        return
    if args.other_database == args.database:
        raise DevError("--other-database must differ from --database")
    if args.other_port == args.port:
        raise DevError("--other-port must differ from --port")
    if port_in_use(args.other_port):
        raise DevError(
            f"port {args.other_port}, for the other Odoo of the contacts-sync demo, is already "
            "in use (a server left over? `dev.py stop-db` stops it); choose another with "
            "--other-port, or skip it with --no-other-odoo"
        )


def _other(extra_paths: list[str], db: DbSettings, database: str) -> OtherOdoo:
    runtime = OdooRuntime(
        launcher=[*python_cmd(), "-m", "odoo"],
        options={
            "addons_path": addons_path(extra_paths),
            "data_dir": str(DATA_DIR),
            **db.odoo_options(),
        },
        connect=lambda name: _connect(db, name),
        state_dir=STATE_DIR,
        python=python_cmd()[0],
        env=child_env(),
    )
    return OtherOdoo(runtime, database)


def ensure_template(extra_paths: list[str], db: DbSettings) -> float | None:
    """Install the other Odoo's template database unless it exists; the seconds it took."""
    try:
        return _other(extra_paths, db, DEFAULT_DATABASE).ensure_template()
    except OtherOdooError as exc:
        raise DevError(f"the other Odoo's template: {exc}") from exc


def start(extra_paths: list[str], db: DbSettings, args) -> OtherOdoo:
    """Create (first time) or reuse the other database, start its server, publish the details.

    Returns the started OtherOdoo (the caller stops it).
    """
    other = _other(extra_paths, db, args.other_database)
    try:
        if not other.exists():
            say(
                f"creating the other Odoo's database '{other.database}' with "
                f"{DEMO_COMPANIES} companies and {DEMO_CONTACTS} contacts ..."
            )
            seconds = other.ensure_template()
            if seconds is not None:
                say(f"installed the contacts app in a template database in {seconds:.1f} s")
            other.create(DEMO_COMPANIES, DEMO_CONTACTS, DEMO_SEED)
        elif other.saved_connection() is None:
            say(f"no API key saved for '{other.database}': making a new one")
            other.new_api_key()
        say(f"starting the other Odoo on port {args.other_port} (log: {rel(other.log_path)})")
        other.start(port=args.other_port)
        try:
            other.rpc().uid  # noqa: B018 - the saved key may be stale (database recreated)
        except OtherOdooError:
            say("the saved API key is refused: making a new one")
            other.new_api_key()
            other.rpc().uid  # noqa: B018
    except OtherOdooError as exc:
        other.stop()
        raise DevError(f"the other Odoo: {exc}") from exc
    publish(db, args.database, other.connection)
    return other


def publish(db: DbSettings, database: str, connection: Connection) -> None:
    """Write the connection details to the main database's system parameters."""
    conn = _connect(db, database)
    try:
        with conn.cursor() as cr:
            for key, attribute in PARAMS.items():
                cr.execute(
                    """
                    INSERT INTO ir_config_parameter
                        (key, value, create_uid, write_uid, create_date, write_date)
                    VALUES (%s, %s, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC')
                    ON CONFLICT (key) DO UPDATE
                        SET value = EXCLUDED.value, write_date = EXCLUDED.write_date
                    """,
                    (key, getattr(connection, attribute)),
                )
    finally:
        conn.close()


def configure_sample_integration(conf, database: str) -> None:
    """Have the main database's contacts-sync integration point at the other Odoo.

    ``ihub_odoo_contacts`` reads the published details (``_ihub_setup_sample``); this runs it
    in an Odoo shell before the main server starts.
    """
    code = (
        'sub = env["ihub.integration.odoo_contacts"]._ihub_setup_sample()\n'
        "env.cr.commit()\n"
        'print("IHUB-SAMPLE", sub.super_id.id)\n'
    )
    result = subprocess.run(
        [*python_cmd(), "-m", "odoo", "shell", "-c", str(conf), "-d", database, "--no-http",
         "--log-level=warn"],
        input=code, capture_output=True, text=True, env=child_env(), check=False,
    )  # fmt: skip
    if "IHUB-SAMPLE" not in result.stdout:
        raise DevError("could not set up the contacts-sync integration:\n" + result.stderr[-2000:])
    say("the integration 'Contacts from the sample Odoo' points at the other Odoo")


def print_banner(other: OtherOdoo) -> None:
    """Where the other Odoo is, for people (browser) and integrations (API key)."""
    connection = other.connection
    print(
        f"\n  The other Odoo (contacts-sync demo) is at  {connection.url}\n"
        f"  database:            {connection.database}\n"
        f"  login / password:    {ADMIN_LOGIN} / {ADMIN_PASSWORD}\n"
        f"  sync user / API key: {connection.login} / {connection.api_key}\n"
        f"  details saved in:    {rel(other.connection_path)} and the system parameters "
        f"{', '.join(PARAMS)}\n"
        f"  log:                 {rel(other.log_path)}\n",
        flush=True,
    )


def stop_leftovers() -> None:
    """Stop other-Odoo servers a previous ``run`` left behind (e.g. killed with SIGKILL)."""
    for pid in stop_recorded_servers(STATE_DIR):
        print(f"Stopped the other Odoo server (pid {pid}).")
