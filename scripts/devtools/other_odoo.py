"""The "other Odoo" of the contacts-sync example: a second Odoo database and server on loopback.

It holds only Odoo's ``contacts`` app (no iHub), seeded sample contacts, and a sync user with an
API key; iHub's contacts-sync integration talks to it over Odoo's external JSON-RPC API. Used by
``dev.py run``, by the tests (``test_ihub/tests/other_odoo.py``) and by the benchmarks::

    runtime = OdooRuntime(launcher=[sys.executable, "-m", "odoo"], options={...},
                          connect=my_psycopg2_connect, state_dir=Path(".local/other-odoo"))
    other = OtherOdoo(runtime, "ihub_other")
    other.create(companies=20, contacts=100, seed=1)   # from a cached template
    connection = other.start(port=8070)                # url, database, login, api_key
    other.touch(count=3, delete=1)                     # for incremental syncs
    other.stop(); other.drop()

Standard library only (dev.py imports it): Odoo runs in subprocesses, and SQL goes through the
``connect`` callable of the caller, which returns psycopg2 connections.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .other_odoo_sample import SAMPLE_TAG, SampleData, sample_data

__all__ = [  # the sample data is part of this module's API
    "SAMPLE_TAG",
    "Connection",
    "JsonRpcClient",
    "OdooRuntime",
    "OtherOdoo",
    "OtherOdooError",
    "SampleData",
    "Touch",
    "free_port",
    "port_in_use",
    "sample_data",
    "stop_recorded_servers",
]

# One template per database server, shared by dev.py run, the tests and the benchmarks: the
# install of contacts (and mail, its dependency) takes far longer than a copy of the result.
TEMPLATE_DATABASE = "ihub_other_odoo_template"
MODULES = ("contacts",)
ADMIN_LOGIN = ADMIN_PASSWORD = "admin"  # what Odoo gives the admin of a database made by -i
SYNC_LOGIN = "ihub_sync"
SEED_SCRIPT = Path(__file__).with_name("other_odoo_seed.py")
START_TIMEOUT = 180  # seconds; the machines running tests are shared and slow at times


class OtherOdooError(Exception):
    """The other Odoo could not be set up, started or reached; the message says why."""


# ---- what an integration needs to reach it


@dataclass(frozen=True)
class Connection:
    """Where the other Odoo serves and how the sync user logs in (the API key is the password)."""

    url: str
    database: str
    login: str
    api_key: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# ---- Odoo's external JSON-RPC API


class JsonRpcClient:
    """A minimal client of Odoo's ``/jsonrpc`` endpoint (what an external system would use)."""

    def __init__(self, url: str, database: str, login: str, password: str, timeout: float = 60):
        self.url = url.rstrip("/")
        self.database = database
        self.login = login
        self.password = password
        self.timeout = timeout
        self._uid = None
        self._request_id = 0

    def call(self, service: str, method: str, *args):
        """``service.method(*args)``; a JSON-RPC error raises OtherOdooError with its message."""
        self._request_id += 1
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
            "id": self._request_id,
        }
        request = urllib.request.Request(
            f"{self.url}/jsonrpc",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise OtherOdooError(
                f"JSON-RPC {service}.{method} at {self.url} failed: {exc}"
            ) from exc
        if answer.get("error"):
            error = answer["error"]
            message = (error.get("data") or {}).get("message") or error.get("message")
            raise OtherOdooError(f"JSON-RPC {service}.{method} at {self.url}: {message}")
        return answer.get("result")

    @property
    def uid(self) -> int:
        """The user id, authenticating on first use (OtherOdooError when refused)."""
        if self._uid is None:
            uid = self.call("common", "authenticate", self.database, self.login, self.password, {})
            if not uid:
                raise OtherOdooError(f"{self.url}: login {self.login!r} refused")
            self._uid = uid
        return self._uid

    def execute(self, model: str, method: str, *args, **kwargs):
        """``model.method(*args, **kwargs)`` through ``object.execute_kw`` as this user."""
        return self.call(
            "object",
            "execute_kw",
            self.database,
            self.uid,
            self.password,
            model,
            method,
            list(args),
            kwargs,
        )


# ---- processes and databases


@dataclass
class OdooRuntime:
    """How to run Odoo processes against the database server of the caller.

    ``options`` are Odoo configuration options (``addons_path``, ``data_dir``, ``db_host``,
    ``db_port``, ``db_user``, ``db_password``); ``connect(dbname)`` returns a psycopg2
    connection to that server; ``state_dir`` receives configs, logs, pid and connection files.
    """

    launcher: list[str]
    options: dict[str, str]
    connect: Callable
    state_dir: Path
    python: str = sys.executable
    env: dict[str, str] | None = None  # for the Odoo subprocesses; None: this process's


@dataclass(frozen=True)
class Touch:
    """What ``OtherOdoo.touch`` changed: partners written or deleted after ``since``.

    ``since`` is a watermark between all earlier writes and the touch, in the API's format
    (UTC, whole seconds): ``write_date > since`` finds exactly the written partners.
    """

    since: str
    written_ids: list[int]
    deleted_ids: list[int]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OtherOdoo:
    """One other-Odoo database and, once started, its server process."""

    def __init__(self, runtime: OdooRuntime, database: str):
        self.runtime = runtime
        self.database = database
        self.process: subprocess.Popen | None = None
        self.url: str | None = None
        self.connection: Connection | None = None
        runtime.state_dir.mkdir(parents=True, exist_ok=True)

    # -- files

    def _path(self, suffix: str, database: str | None = None) -> Path:
        return self.runtime.state_dir / f"{database or self.database}{suffix}"

    @property
    def log_path(self) -> Path:
        """The server's log file."""
        return self._path(".log")

    @property
    def connection_path(self) -> Path:
        """JSON file with the connection details (readable by its owner only: it holds a key)."""
        return self._path(".json")

    def _config(self, database: str) -> Path:
        """An Odoo config of our own: no ~/.odoorc, loopback only, no crons, no database list."""
        options = {
            **self.runtime.options,
            "db_name": database,
            "dbfilter": f"^{database}$",
            "http_interface": "127.0.0.1",
            "list_db": "False",
            "max_cron_threads": "0",
            "workers": "0",
            "without_demo": "all",
            "proxy_mode": "False",
        }
        path = self._path(".conf", database)
        lines = ["; Generated by scripts/devtools/other_odoo.py; overwritten on each use.\n"]
        lines += ["[options]\n", *(f"{key} = {value}\n" for key, value in options.items())]
        path.write_text("".join(lines))
        return path

    def _odoo(self, database: str, *args: str) -> list[str]:
        return [*self.runtime.launcher, "server", "-c", str(self._config(database)), *args]

    def _filestore(self, database: str) -> Path | None:
        data_dir = self.runtime.options.get("data_dir")
        return Path(data_dir) / "filestore" / database if data_dir else None

    # -- SQL

    def _sql(self, query: str, *params, dbname: str = "postgres"):
        """Run one statement in autocommit; return its rows (None when it returns none)."""
        conn = self.runtime.connect(dbname)
        try:
            conn.autocommit = True
            with conn.cursor() as cr:
                cr.execute(query, params)
                return cr.fetchall() if cr.description else None
        finally:
            conn.close()

    def _exists(self, database: str) -> bool:
        return bool(self._sql("SELECT 1 FROM pg_database WHERE datname = %s", database))

    def _ready(self, database: str) -> bool:
        """Whether ``database`` exists with the modules installed."""
        if not self._exists(database):
            return False
        rows = self._sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'ir_module_module'",
            dbname=database,
        )
        if not rows[0][0]:
            return False
        rows = self._sql(
            "SELECT count(*) FROM ir_module_module WHERE name IN %s AND state = 'installed'",
            MODULES,
            dbname=database,
        )
        return rows[0][0] == len(MODULES)

    def _drop(self, database: str) -> None:
        # Identifiers cannot be parameters; database names here are ours, quoted all the same.
        self._sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        filestore = self._filestore(database)
        if filestore:
            shutil.rmtree(filestore, ignore_errors=True)

    # -- database

    def exists(self) -> bool:
        """Whether this database exists with the contacts app installed."""
        return self._ready(self.database)

    def ensure_template(self) -> float | None:
        """Install the template database once; return the seconds it took (None: reused).

        It is built under a temporary name and renamed when complete, so a crash or a
        concurrent builder never leaves a half-installed template behind.
        """
        if self._ready(TEMPLATE_DATABASE):
            return None
        building = f"{TEMPLATE_DATABASE}_build_{os.getpid()}"
        self._drop(building)
        start = time.monotonic()
        log = self._path(".install.log", building)
        cmd = self._odoo(building, "-d", building, "-i", ",".join(MODULES), "--stop-after-init") + [
            "--log-level=warn",
            f"--logfile={log}",
        ]
        result = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, check=False, env=self.runtime.env
        )
        if result.returncode or not self._ready(building):
            output = _tail(log) or result.stderr.decode(errors="replace")[-3000:]
            self._drop(building)
            raise OtherOdooError(f"installing {', '.join(MODULES)} failed:\n{output}")
        try:
            self._sql(f'ALTER DATABASE "{building}" RENAME TO "{TEMPLATE_DATABASE}"')
        except Exception:  # noqa: BLE001 - a concurrent builder won the race; use its template
            self._drop(building)
            if not self._ready(TEMPLATE_DATABASE):
                raise
        else:
            source, target = self._filestore(building), self._filestore(TEMPLATE_DATABASE)
            if source and source.is_dir():
                shutil.rmtree(target, ignore_errors=True)
                source.rename(target)
        log.unlink(missing_ok=True)
        self._path(".conf", building).unlink(missing_ok=True)
        return time.monotonic() - start

    def create(self, companies: int = 10, contacts: int = 50, seed: int = 0) -> Connection:
        """(Re)create the database from the template with sample data, the sync user and a key.

        The returned connection's URL is empty until ``start``. Its API key is shown only here
        (Odoo stores a hash): it is also written to ``connection_path``.
        """
        self.ensure_template()
        self._drop(self.database)
        self._sql(f'CREATE DATABASE "{self.database}" TEMPLATE "{TEMPLATE_DATABASE}"')
        source, target = self._filestore(TEMPLATE_DATABASE), self._filestore(self.database)
        if source and source.is_dir():
            shutil.copytree(source, target)
        data = sample_data(companies, contacts, seed)
        result = self._seed({"sample": asdict(data), "login": SYNC_LOGIN})
        return self._remember(result["api_key"])

    def new_api_key(self) -> Connection:
        """Give the sync user a fresh API key (e.g. when the stored one was lost)."""
        result = self._seed({"sample": None, "login": SYNC_LOGIN})
        return self._remember(result["api_key"])

    def saved_connection(self) -> Connection | None:
        """The connection stored by the last ``create``/``new_api_key``/``start`` (or None)."""
        try:
            values = json.loads(self.connection_path.read_text())
            return Connection(**{key: values[key] for key in Connection.__dataclass_fields__})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _remember(self, api_key: str) -> Connection:
        self.connection = Connection(self.url or "", self.database, SYNC_LOGIN, api_key)
        self._save()
        return self.connection

    def _save(self) -> None:
        path = self.connection_path
        path.unlink(missing_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(self.connection.as_dict(), handle, indent=2)

    def _seed(self, request: dict) -> dict:
        """Run other_odoo_seed.py in an Odoo process on the database; return its answer."""
        request_path = self._path(".seed-request.json")
        answer_path = self._path(".seed-answer.json")
        request_path.write_text(json.dumps(request))
        answer_path.unlink(missing_ok=True)
        config = self._config(self.database)
        # Not `python other_odoo_seed.py`: its folder would come first on sys.path, and its
        # odoo.py (dev.py's helpers) would hide Odoo.
        runner = f"import runpy; runpy.run_path({str(SEED_SCRIPT)!r}, run_name='__main__')"
        cmd = [self.runtime.python, "-c", runner, str(config), self.database]
        cmd += [str(request_path), str(answer_path)]
        try:
            result = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
                env=self.runtime.env,
                cwd=self.runtime.state_dir,
            )
            if result.returncode or not answer_path.exists():
                output = result.stderr.decode(errors="replace")[-3000:]
                raise OtherOdooError(f"seeding database {self.database!r} failed:\n{output}")
            return json.loads(answer_path.read_text())
        finally:
            request_path.unlink(missing_ok=True)
            answer_path.unlink(missing_ok=True)

    def drop(self) -> None:
        """Stop the server if running, then drop the database, its filestore and files."""
        self.stop()
        self._drop(self.database)
        for suffix in (".json", ".conf", ".log"):
            self._path(suffix).unlink(missing_ok=True)

    # -- server

    def start(self, port: int | None = None, log_level: str = "info") -> Connection:
        """Start the server on 127.0.0.1:``port`` (a free one by default); wait until it serves.

        Needs a database made by ``create`` (or an existing one and a saved connection). Raises
        OtherOdooError when the port is taken or the server does not come up.
        """
        if self.process is not None:
            raise OtherOdooError("the other Odoo is already started")
        connection = self.connection or self.saved_connection()
        if connection is None:
            raise OtherOdooError(f"no API key known for {self.database!r}: call create() first")
        port = port or free_port()
        if port_in_use(port):
            raise OtherOdooError(f"port {port} is already in use")
        cmd = self._odoo(self.database, "-d", self.database, f"--http-port={port}")
        cmd += [f"--log-level={log_level}", f"--logfile={self.log_path}"]
        # A session of its own: a Ctrl+C in the terminal reaches the caller, which stops it.
        # What Odoo prints before its logging is set up goes to the log file too.
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=self.runtime.env,
            )
        self._path(".pid").write_text(f"{self.process.pid}\n")
        self.url = f"http://127.0.0.1:{port}"
        try:
            self._wait_until_serving()
        except BaseException:
            self.stop()
            raise
        self.connection = Connection(self.url, self.database, connection.login, connection.api_key)
        self._save()
        return self.connection

    def _wait_until_serving(self) -> None:
        """Wait until the database is loaded and answers (a login page of that database)."""
        deadline = time.monotonic() + START_TIMEOUT
        url = f"{self.url}/web/login?db={self.database}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OtherOdooError(
                    f"the other Odoo exited with code {self.process.returncode}:\n"
                    f"{_tail(self.log_path)}"
                )
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.3)
        raise OtherOdooError(f"the other Odoo did not serve {url} within {START_TIMEOUT} s")

    def stop(self) -> None:
        """Stop the server (SIGTERM to its process group, SIGKILL after 30 s)."""
        if self.process is not None:
            stop_process_group(self.process.pid, self.process.wait)
            self.process = None
        self._path(".pid").unlink(missing_ok=True)

    # -- API

    def rpc(self, login: str | None = None, password: str | None = None) -> JsonRpcClient:
        """A JSON-RPC client of the running server, as the sync user unless told otherwise."""
        if self.url is None:
            raise OtherOdooError("the other Odoo is not started")
        if login is None:
            login, password = SYNC_LOGIN, self.connection.api_key
        return JsonRpcClient(self.url, self.database, login, password)

    def admin_rpc(self) -> JsonRpcClient:
        """A JSON-RPC client as the other side's administrator (not the sync user)."""
        return self.rpc(ADMIN_LOGIN, ADMIN_PASSWORD)

    def touch(self, count: int = 3, delete: int = 1) -> Touch:
        """Change ``count`` sample contacts and delete ``delete`` others, as the administrator.

        The first ``count`` contacts (by id) get a new ``function`` and the last ``delete``
        ones are deleted; the result tells which, and the ``since`` that finds them.
        """
        admin = self.admin_rpc()
        partners = "res.partner"
        newest = admin.execute(
            partners,
            "search_read",
            [("write_date", "!=", False)],
            fields=["write_date"],
            order="write_date desc",
            limit=1,
        )
        # The API gives whole seconds: the watermark is the second after the newest write, and
        # the writes below wait until it has passed, so `write_date > since` finds them only.
        newest = newest[0]["write_date"] if newest else "1970-01-01 00:00:00"
        watermark = datetime.fromisoformat(newest) + timedelta(seconds=1)
        since = watermark.strftime("%Y-%m-%d %H:%M:%S")
        wait = (watermark - _utcnow()).total_seconds() + 0.05
        if wait > 0:
            time.sleep(wait)
        domain = [("category_id.name", "=", SAMPLE_TAG), ("is_company", "=", False)]
        ids = admin.execute(partners, "search", domain, order="id")
        written = ids[:count]
        deleted = ids[len(ids) - delete :] if delete else []
        if set(written) & set(deleted):
            raise OtherOdooError("not enough sample contacts to write and delete distinct ones")
        for number, partner_id in enumerate(written, start=1):
            admin.execute(partners, "write", [partner_id], {"function": f"Touched {number}"})
        if deleted:
            admin.execute(partners, "unlink", deleted)
        return Touch(since, written, deleted)


def _utcnow() -> datetime:
    # Odoo's write_date is naive UTC, from the database server's clock (this machine's).
    return datetime.now(timezone.utc).replace(tzinfo=None)


def stop_process_group(pid: int, wait: Callable[..., object] | None = None) -> bool:
    """SIGTERM the process group ``pid`` leads, SIGKILL it after 30 s; False if it was gone."""
    try:
        os.killpg(pid, signal.SIGCONT)
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if wait is not None:
            try:
                wait(timeout=0.2)
                return True
            except subprocess.TimeoutExpired:
                continue
        if not _alive(pid):
            return True
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)
    if wait is not None:
        wait()
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our child not yet reaped) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def stop_recorded_servers(state_dir: Path) -> list[int]:
    """Stop other-Odoo servers whose pid files are in ``state_dir`` (e.g. from ``stop-db``).

    A pid is only signalled when its command line names the config file next to the pid
    file, so a stale pid reused by another program is left alone. Returns the stopped pids.
    """
    stopped = []
    for pid_file in sorted(state_dir.glob("*.pid")) if state_dir.is_dir() else ():
        try:
            pid = int(pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            cmdline = ""
        if str(pid_file.with_suffix(".conf")) in cmdline and stop_process_group(pid):
            stopped.append(pid)
        pid_file.unlink(missing_ok=True)
    return stopped


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
