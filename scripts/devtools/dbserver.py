"""Database connection settings and the few SQL operations dev.py needs.

A server is "configured" when any of IHUB_DB_HOST/PORT/USER/PASSWORD or the
libpq variables PGHOST/PGPORT/PGUSER/PGPASSWORD is set (IHUB_DB_* wins per
setting). Otherwise dev.py uses its embedded cluster (see pgcluster.py).
SQL goes through psycopg2, which Odoo requires anyway (imported lazily).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

from .common import DevError, env_value

ENV_VARS = {
    "host": ("IHUB_DB_HOST", "PGHOST"),
    "port": ("IHUB_DB_PORT", "PGPORT"),
    "user": ("IHUB_DB_USER", "PGUSER"),
    "password": ("IHUB_DB_PASSWORD", "PGPASSWORD"),
}
MIN_SERVER_VERSION = 130000


@dataclass
class DbSettings:
    """Where Odoo's database server is and how to log in to it."""

    host: str | None = None
    port: str | None = None
    user: str | None = None
    password: str | None = None
    source: str = "embedded cluster"

    def describe(self) -> str:
        """Human readable ``user@host:port``."""
        return (
            f"{self.user or '(default user)'}@{self.host or '(default host)'}:{self.port or 5432}"
        )

    def odoo_options(self) -> dict[str, str]:
        """The db_* options of an Odoo configuration file."""
        return {
            "db_host": self.host or "False",
            "db_port": self.port or "False",
            "db_user": self.user or "False",
            "db_password": self.password or "False",
        }

    def env_exports(self) -> dict[str, str]:
        """IHUB_DB_* variables pointing another dev.py at this server."""
        return {
            "IHUB_DB_HOST": self.host or "",
            "IHUB_DB_PORT": self.port or "",
            "IHUB_DB_USER": self.user or "",
            "IHUB_DB_PASSWORD": self.password or "",
        }


def configured_server() -> DbSettings | None:
    """The server configured through environment variables, if any."""
    names = [name for pair in ENV_VARS.values() for name in pair]
    used = [name for name in names if os.environ.get(name)]
    if not used:
        return None
    values = {key: env_value(*pair) for key, pair in ENV_VARS.items()}
    return DbSettings(**values, source=", ".join(used))


def _connect(settings: DbSettings, dbname: str = "postgres"):
    """A psycopg2 connection in autocommit mode (raises DevError when it fails)."""
    try:
        import psycopg2  # noqa: PLC0415 - Odoo's dependency, imported when needed
    except ImportError as exc:
        raise DevError(f"psycopg2 (an Odoo dependency) is not importable: {exc}", 2) from exc
    params = {"dbname": dbname, "connect_timeout": 10}
    for key in ("host", "port", "user", "password"):
        if getattr(settings, key):
            params[key] = getattr(settings, key)
    try:
        conn = psycopg2.connect(**params)
    except psycopg2.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise DevError(f"cannot connect to {settings.describe()}: {message}") from exc
    conn.autocommit = True
    return conn


def probe(settings: DbSettings) -> str:
    """Return why ``settings`` cannot serve Odoo, or "" when it can."""
    user = settings.user or getpass.getuser()
    if user == "postgres":
        return "Odoo refuses the database user 'postgres'; use another role (IHUB_DB_USER)"
    try:
        conn = _connect(settings)
    except DevError as exc:
        return str(exc)
    try:
        with conn.cursor() as cr:
            cr.execute("SHOW server_version_num")
            version = int(cr.fetchone()[0])
    finally:
        conn.close()
    if version < MIN_SERVER_VERSION:
        return f"PostgreSQL server version {version} is older than 13"
    return ""


def database_exists(settings: DbSettings, name: str) -> bool:
    """Whether database ``name`` exists on the server."""
    conn = _connect(settings)
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return cr.fetchone() is not None
    finally:
        conn.close()


def drop_database(settings: DbSettings, name: str) -> None:
    """Drop database ``name`` if it exists, closing its connections (PostgreSQL >= 13)."""
    from psycopg2 import sql  # noqa: PLC0415

    conn = _connect(settings)
    try:
        with conn.cursor() as cr:
            cr.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        conn.close()


def clone_database(settings: DbSettings, template: str, name: str) -> None:
    """Create database ``name`` as a copy of ``template`` (which nobody may be connected to)."""
    from psycopg2 import sql  # noqa: PLC0415

    drop_database(settings, name)
    conn = _connect(settings)
    try:
        with conn.cursor() as cr:
            cr.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
    finally:
        conn.close()


def module_states(settings: DbSettings, name: str, modules: tuple[str, ...]) -> dict[str, str]:
    """State of each module in database ``name`` ({} if it is not an Odoo database)."""
    if not database_exists(settings, name):
        return {}
    conn = _connect(settings, name)
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
            if not cr.fetchone()[0]:
                return {}
            cr.execute(
                "SELECT name, state FROM ir_module_module WHERE name IN %s", (tuple(modules),)
            )
            return dict(cr.fetchall())
    finally:
        conn.close()
