"""A database of a test's own, copied from the suite's template, and Odoo run on it.

``dev.py test`` installs iHub alone in a template database (``IHUB_TEST_TEMPLATE``); tests that
install an addon written at test time (the guide's, a scaffolded one, the tutorial's) copy it, so
that only the new addon installs, and run Odoo in a subprocess as an author would.
"""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2.sql

from odoo.tools import config

from .servers import connect, db_options, drop_database


def fresh_database(test, workdir, prefix):
    """A new database (dropped after ``test``): a copy of the template when there is one.

    Without ``IHUB_TEST_TEMPLATE`` (pytest run by hand) the name is only reserved: the first
    ``odoo -i`` creates the database and installs iHub with the addon.
    """
    database = f"{prefix}_{uuid.uuid4().hex[:8]}"
    test.addCleanup(drop_database, database)
    template = os.environ.get("IHUB_TEST_TEMPLATE")
    if template:
        connection = connect("postgres")
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute(
                psycopg2.sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    psycopg2.sql.Identifier(database), psycopg2.sql.Identifier(template)
                )
            )
        connection.close()
        filestore = Path(config["data_dir"]) / "filestore"
        if (filestore / template).is_dir():
            shutil.copytree(filestore / template, Path(workdir) / "data" / "filestore" / database)
    return database


def odoo(workdir, database, *args, command="server", stdin=None):
    """``odoo <command>`` on ``database`` with the suite's addons and ``workdir``; the result."""
    options = [
        "--addons-path",
        f"{config['addons_path']},{workdir}",
        "--data-dir",
        str(Path(workdir) / "data"),
        "-d",
        database,
        "--http-port",
        "0",
        *db_options(),
    ]
    if command == "server":
        options.append("--stop-after-init")
    return subprocess.run(
        [sys.executable, "-m", "odoo", command, *options, *args],
        check=False,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=600,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def fetchall(database, query, params=None):
    """Rows of ``query`` on ``database``, through a connection of its own."""
    connection = connect(database)
    try:
        with connection.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()
    finally:
        connection.close()
