"""Real Odoo servers and real transactions for tests: the one harness every test shares.

``RealTransactions`` commits through cursors of its own (and cleans up after itself);
``ServerCase`` starts Odoo servers — threaded or prefork — on the test database, and
``db_options()``/``connect()`` reach the test's PostgreSQL server from other processes.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import psycopg2
import psycopg2.sql

from odoo import SUPERUSER_ID, api
from odoo.tools import config

from .common import IHubCase

DB_KEYS = ("db_host", "db_port", "db_user", "db_password")


def db_options():
    """Command-line options that point an Odoo process at the test's database server."""
    options = []
    for key in DB_KEYS:
        if config.get(key):
            options += [f"--{key}", str(config[key])]
    return options


def connect(database):
    """A plain psycopg2 connection to ``database`` on the test's server."""
    params = {"dbname": database}
    for key, param in zip(DB_KEYS, ("host", "port", "user", "password"), strict=True):
        if config.get(key):
            params[param] = config[key]
    return psycopg2.connect(**params)


def drop_database(database):
    connection = connect("postgres")
    connection.autocommit = True
    with connection.cursor() as cr:
        cr.execute(
            psycopg2.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg2.sql.Identifier(database)
            )
        )
    connection.close()


def odoo_launcher():
    """How to start Odoo: its console script when installed, else ``python -m odoo``.

    A prefork server starts its websocket process again with ``sys.argv[0]``; under
    ``-m odoo`` that is odoo/__main__.py, which cannot run as a plain script.
    """
    script = os.path.join(os.path.dirname(sys.executable), "odoo")
    if os.path.isfile(script):
        return [sys.executable, script]
    return [sys.executable, "-m", "odoo"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RealTransactions(IHubCase):
    """Data committed through cursors of their own, deleted again after the test."""

    @contextmanager
    def transaction(self):
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def create_committed_integrations(self, count, **vals):
        """``count`` committed test integrations, run as the administrator (an iHub manager)."""
        with self.transaction() as env:
            vals.setdefault("run_user_id", env.ref("base.user_admin").id)
            integrations = (
                env["ihub.integration.test"]
                .create([{"name": f"Race {i}", **vals} for i in range(count)])
                .super_id
            )
            ids = integrations.ids
        self.addCleanup(self.delete_committed, ids)
        return ids

    def delete_committed(self, integration_ids):
        with self.transaction() as env:
            integrations = env["ihub.integration"].browse(integration_ids).exists()
            integrations.cron_id.unlink()
            integrations.unlink()

    def set_param(self, key, value):
        with self.transaction() as env:
            old = env["ir.config_parameter"].get_param(key)
            env["ir.config_parameter"].set_param(key, value)
        self.addCleanup(self._restore_param, key, old)

    def _restore_param(self, key, value):
        with self.transaction() as env:
            env["ir.config_parameter"].set_param(key, value or False)


class ServerCase(RealTransactions):
    """Starts real Odoo servers (cron workers on) on the test database."""

    def setUp(self):
        super().setUp()
        # Odoo skips a cron (and logs an error) after three runs that never finished; these
        # tests kill and stop servers in the middle of runner crons on purpose.
        with self.transaction() as env:
            env.cr.execute("UPDATE ir_cron_progress SET timed_out_counter = 0")

    def start_server(self, logfile, workers=0, cron_workers=2, extra=()):
        """Start a server; ``workers`` > 0 starts a prefork server with that many HTTP
        workers (and ``cron_workers`` cron worker processes)."""
        port = free_port()
        command = [
            *odoo_launcher(),
            "server",
            "-c",
            config.rcfile,
            "-d",
            self.env.cr.dbname,
            "--db-filter",
            f"^{self.env.cr.dbname}$",
            "--addons-path",
            config["addons_path"],
            "--http-port",
            str(port),
            "--gevent-port",
            str(free_port()),
            "--http-interface",
            "127.0.0.1",
            "--max-cron-threads",
            str(cron_workers),
            "--workers",
            str(workers),
            "--log-level",
            "warn",
            *db_options(),
            *extra,
        ]
        process = subprocess.Popen(
            command, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.addCleanup(self.stop_server, process)
        self.wait_until_serving(process, port)
        return process

    def wait_until_serving(self, process, port, timeout=60):
        """Wait until the server answers with the database loaded, then wake its crons.

        Cron workers only look for work when woken (a cron trigger's NOTIFY) or once a
        minute, and only in databases already loaded.
        """
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{port}/web/login?db={self.env.cr.dbname}"
        while time.monotonic() < deadline:
            self.assertIsNone(process.poll(), "the server stopped")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            self.fail("the server did not start")
        with self.transaction() as env:
            env["ihub.job"]._wake_runner()

    def stop_server(self, process):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGCONT)
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def wait_for(self, condition, servers=(), timeout=90, message="the servers"):
        """Poll ``condition(env)`` in fresh transactions until true; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for server in servers:
                self.assertIsNone(server.poll(), "a server stopped")
            with self.transaction() as env:
                if condition(env):
                    return
            time.sleep(0.3)
        self.fail(f"timed out waiting for {message}")

    @staticmethod
    def ihub_errors(server_log):
        """Logged errors that concern iHub (Odoo's own crons also run on these servers)."""
        entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ )", server_log)
        ihub_code = re.compile(r"odoo\.addons\.(test_)?ihub|/(test_)?ihub/|iHub")
        return [e for e in entries if " ERROR " in e and ihub_code.search(e)]

    @staticmethod
    def read_log(log):
        log.flush()
        log.seek(0)
        return log.read()
