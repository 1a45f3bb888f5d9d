"""What the benchmarks run on: queue_job, a throwaway PostgreSQL cluster, an Odoo server.

Everything here is set up by a benchmark (``bench/run.py``, or one run through :func:`main`)
and torn down by it; nothing touches the developer's own cluster (``.local/postgres``) or
databases.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from devtools import common, pgcluster, prereq  # noqa: E402
from devtools.common import DevError  # noqa: E402

LOCAL_BENCH = REPO_ROOT / ".local" / "bench"  # git-ignored: downloads, addons, logs
QUEUE_JOB_ADDONS = LOCAL_BENCH / "queue_job_addons"
QUEUE_JOB_DOWNLOADS = LOCAL_BENCH / "downloads"
LOG_DIR = LOCAL_BENCH / "logs"
QUEUE_JOB_REQUIREMENT = "odoo-addon-queue-job>=18.0,<18.1"
BENCH_ADDONS = ("ihub_bench", "ihub_bench_queue_job")
DATABASE = "ihub_bench"


def say(message: str) -> None:
    """Progress on stderr; stdout is kept for the results table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---- queue_job, outside site-packages


def _wheel_version(wheel: Path) -> tuple[int, ...]:
    """(18, 0, 4, 1, 2) for odoo_addon_queue_job-18.0.4.1.2-py3-none-any.whl."""
    return tuple(int(part) for part in wheel.name.split("-")[1].split(".") if part.isdigit())


def ensure_queue_job(version: str | None = None) -> tuple[Path, str]:
    """Return (addons folder holding ``queue_job``, its version), downloading it once.

    ``version`` pins a release (e.g. ``18.0.1.7.0``); by default the newest 18.0 release
    already downloaded is used, else the newest one on PyPI. The wheel is not pip-installed:
    it would create ``site-packages/odoo/`` as a namespace folder that hides the editable Odoo
    install. Its ``odoo/addons/queue_job`` folder is unzipped into
    ``.local/bench/queue_job_addons/<version>/`` instead, and reused by later runs.
    """
    pattern = f"odoo_addon_queue_job-{version or '18.0.*'}-*.whl"
    wheels = sorted(QUEUE_JOB_DOWNLOADS.glob(pattern), key=_wheel_version)
    if not wheels:
        spec = f"odoo-addon-queue-job=={version}" if version else QUEUE_JOB_REQUIREMENT
        say(f"downloading {spec} into {common.rel(QUEUE_JOB_DOWNLOADS)}")
        QUEUE_JOB_DOWNLOADS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             "-d", str(QUEUE_JOB_DOWNLOADS), spec],
            check=True,
        )  # fmt: skip
        wheels = sorted(QUEUE_JOB_DOWNLOADS.glob(pattern), key=_wheel_version)
    if not wheels:
        raise DevError(f"pip downloaded no queue_job wheel into {QUEUE_JOB_DOWNLOADS}")
    wheel = wheels[-1]
    addons = QUEUE_JOB_ADDONS / wheel.name.split("-")[1]
    target = addons / "queue_job"
    if not (target / "__manifest__.py").is_file():
        shutil.rmtree(target, ignore_errors=True)
        prefix = "odoo/addons/queue_job/"
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith(prefix) and not name.endswith("/"):
                    path = target / name[len(prefix) :]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(archive.read(name))
        say(f"unzipped {wheel.name} into {common.rel(target)}")
    manifest = ast.literal_eval((target / "__manifest__.py").read_text())
    for module in manifest.get("external_dependencies", {}).get("python", []):
        if importlib.util.find_spec(module) is None:
            raise DevError(f"queue_job needs the Python package '{module}': pip install {module}")
    return addons, manifest["version"]


# ---- Odoo and PostgreSQL


def odoo_addons_paths() -> list[str]:
    """Odoo's standard addons folders that must be named in addons_path (via devtools)."""
    checks, env = prereq.collect("run")
    missing = [check for check in checks if check.required and not check.ok]
    if missing:
        prereq.print_table(missing, sys.stderr)
        raise DevError("prerequisites missing (see python3 scripts/dev.py check)", 2)
    return env.extra_addons_paths


def start_cluster(base: Path) -> pgcluster.Cluster:
    """Create and start a PostgreSQL cluster of our own in ``base`` (socket only)."""
    bindir, _version, error = pgcluster.find_binaries()
    problem = f"PostgreSQL server binaries {error}" if error else pgcluster.runner_problem()
    if problem:
        raise DevError(problem, 2)
    cluster = pgcluster.Cluster(base, bindir)
    cluster.start()
    return cluster


def free_port() -> int:
    """A TCP port on the loopback that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(
    path: Path,
    *,
    addons: list[str],
    cluster,
    data_dir: Path,
    port: int,
    workers: int,
    http_workers: int = 0,
    gevent_port: int | None = None,
    server_wide: str = "base,web,queue_job",
    database: str = DATABASE,
):
    """The Odoo config shared by the install, the server and the in-process client.

    ``workers`` is the number of cron threads (or, with ``http_workers`` > 0, of prefork cron
    worker processes); ``http_workers`` 0 is Odoo's threaded server, more is its prefork
    server, whose websocket process listens on ``gevent_port``.
    """
    parser = configparser.ConfigParser(interpolation=None)
    db = cluster.settings()
    parser["options"] = {
        "addons_path": ",".join(addons),
        "data_dir": str(data_dir),
        "db_host": db.host,
        "db_port": db.port,
        "db_user": db.user,
        "db_password": "False",
        # No dbfilter, as a production server of one database: see scripts/devtools/odoo.py.
        "db_name": database,
        "list_db": "False",
        "without_demo": "True",
        "http_interface": "127.0.0.1",
        "http_port": str(port),
        "workers": str(http_workers),
        "max_cron_threads": str(workers),
        "server_wide_modules": server_wide,
        "log_level": "warn",
    }
    if http_workers:
        parser["options"].update(
            {
                "gevent_port": str(gevent_port or free_port()),
                # Prefork workers are recycled past these limits. queue_job's runner process
                # would be restarted after 60 CPU seconds (Odoo's default), with a 5 s pause,
                # in the middle of a measurement: the limits are far above a benchmark's run.
                "limit_time_cpu": "3600",
                "limit_time_real": "7200",
                "limit_time_real_cron": "7200",
                "limit_request": "1000000",
            }
        )
    # queue_job's server-wide channels: as many jobs at a time as there are cron threads.
    parser["queue_job"] = {"channels": f"root:{workers}"}
    with open(path, "w") as handle:
        parser.write(handle)
    return path


def odoo_env(port: int, workers: int) -> dict[str, str]:
    """Environment of the Odoo processes: queue_job's runner settings made explicit."""
    return {
        **common.child_env(),
        "ODOO_QUEUE_JOB_CHANNELS": f"root:{workers}",
        "ODOO_QUEUE_JOB_HOST": "127.0.0.1",
        "ODOO_QUEUE_JOB_PORT": str(port),
        "ODOO_QUEUE_JOB_SCHEME": "http",
    }


def odoo_cmd() -> list[str]:
    """Odoo's command line, through bench/odoo_compat.py (see there)."""
    return [*common.python_cmd(), str(BENCH_DIR / "odoo_compat.py")]


def install(
    conf: Path, env: dict[str, str], modules=BENCH_ADDONS, database: str = DATABASE
) -> float:
    """Create the database with ``modules`` (the two bench addons) and their dependencies."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / "install.log"
    say(f"installing {', '.join(modules)} (log: {common.rel(log)}) ...")
    start = time.monotonic()
    with open(log, "w") as out:
        result = subprocess.run(
            [*odoo_cmd(), "server", "-c", str(conf), "-d", database,
             "-i", ",".join(modules), "--stop-after-init", f"--logfile={log}"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=REPO_ROOT, check=False,
        )  # fmt: skip
    seconds = time.monotonic() - start
    if result.returncode != 0:
        raise DevError(f"install failed ({common.rel(log)}):\n{common.tail(log, 30)}")
    say(f"installed in {seconds:.0f} s")
    return seconds


class OdooServer:
    """``python3 -m odoo server`` in a subprocess: cron threads, HTTP, queue_job's runner."""

    def __init__(self, conf: Path, env: dict[str, str], port: int, log_name: str = "server"):
        self.conf, self.env, self.port = conf, env, port
        self.log = LOG_DIR / f"{log_name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        """Start the server and wait until it answers HTTP."""
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log.unlink(missing_ok=True)  # Odoo appends to its log file
        say(f"starting Odoo on 127.0.0.1:{self.port} (log: {common.rel(self.log)})")
        self.proc = subprocess.Popen(
            [*odoo_cmd(), "server", "-c", str(self.conf),
             f"--logfile={self.log}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            env=self.env, cwd=REPO_ROOT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/web/health"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DevError(f"Odoo exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        raise DevError(f"Odoo did not answer on {url} within {timeout:.0f} s:\n{self.tail()}")

    def wait_log(self, text: str, timeout: float) -> bool:
        """Wait until ``text`` appears in the server log; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log.exists() and text in self.log.read_text(errors="replace"):
                return True
            time.sleep(0.2)
        return False

    def tail(self, lines: int = 30) -> str:
        """The end of the server log."""
        return common.tail(self.log, lines)

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL after 20 s; only our own process group."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


class FloorWorkers:
    """W ``bench/floor.py`` worker processes on the benchmark database (see floor.py).

    Each stops when its stdin is closed (``stop``), or by itself after ``max_seconds``.
    """

    def __init__(self, count: int, db_settings, database: str, max_seconds: float):
        self.count, self.db, self.database = count, db_settings, database
        self.max_seconds = max_seconds
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        """Start the workers (they LISTEN before their first look at the queue)."""
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        for number in range(self.count):
            log = open(LOG_DIR / f"floor-{number + 1}.log", "w")
            with log:
                proc = subprocess.Popen(
                    [sys.executable, str(BENCH_DIR / "floor.py"),
                     "--host", self.db.host, "--port", str(self.db.port),
                     "--user", self.db.user, "--dbname", self.database,
                     "--max-seconds", str(self.max_seconds)],
                    stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                    cwd=REPO_ROOT, start_new_session=True,
                )  # fmt: skip
            self.procs.append(proc)

    def stop(self) -> None:
        """Close their stdin and wait; SIGKILL (by pid) any still there after 10 s."""
        for proc in self.procs:
            if proc.stdin:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self.procs = []


# ---- A benchmark's main()


def argument_parser(script: str, doc: str, children=()) -> argparse.ArgumentParser:
    """The command line of ``bench/<script>``, described by the first paragraph of ``doc``.

    ``children``: the kinds of child process the script runs itself as (:func:`run_child`),
    given by the hidden options ``--child`` and ``--conf``.
    """
    parser = argparse.ArgumentParser(
        prog=f"bench/{script}", description=doc.split("\n\n")[0].strip()
    )
    if children:
        parser.add_argument("--child", choices=tuple(children), help=argparse.SUPPRESS)
        parser.add_argument("--conf", help=argparse.SUPPRESS)
    return parser


def run_child(script: str, kind: str, conf: Path, *extra: str) -> dict:
    """Run ``bench/<script> --child kind`` (a fresh process: Odoo loaded anew, its own peak
    memory) and return the JSON it printed last."""
    result = subprocess.run(
        [sys.executable, str(BENCH_DIR / script), "--child", kind, "--conf", str(conf), *extra],
        capture_output=True, text=True, check=False, cwd=REPO_ROOT,
    )  # fmt: skip
    if result.returncode != 0:
        raise DevError(f"{kind} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class Session:
    """One run of a benchmark: its folder, PostgreSQL cluster, Odoo config and servers, and
    what else it started (``on_exit``), all stopped by :meth:`close` in reverse order.

    ``keep``: the folder is ``.local/bench/<name>``, emptied at the start and kept after the run
    (its logs); else a temporary folder, removed at the end.
    """

    def __init__(self, name: str, keep: bool = False):
        self.name, self.keep = name, keep
        self.load_start = os.getloadavg()[0]
        self.started = time.monotonic()
        if keep:
            self.base = LOCAL_BENCH / name
            shutil.rmtree(self.base, ignore_errors=True)
            self.base.mkdir(parents=True)
        else:
            self.base = Path(tempfile.mkdtemp(prefix=f"ihub-{name}-"))
        os.chmod(self.base, 0o755)  # the postgres OS user must reach its cluster directory
        self.cluster = self.conf = self.env = self.port = None
        self.addons: list[str] = []
        self.servers: list[OdooServer] = []
        self._stops: list = []

    def on_exit(self, stop):
        """Call ``stop()`` when the run ends, whatever happens (before what was started
        earlier is stopped)."""
        self._stops.append(stop)
        return stop

    def install(
        self, modules, database: str, *, addons_first=(), workers=0, http_workers=0, port=None
    ) -> Path:
        """Start the cluster, write the Odoo config (``workers`` cron threads or processes,
        ``http_workers`` as in :func:`write_config`) and create ``database`` with ``modules``;
        return the config's path. ``addons_first``: folders put before the repository's."""
        self.addons = [
            *addons_first,
            *odoo_addons_paths(),
            str(REPO_ROOT),
            str(BENCH_DIR / "addons"),
        ]
        self.cluster = start_cluster(self.base / "postgres")
        self.on_exit(self.cluster.stop)
        self.port = port or free_port()
        self.conf = write_config(
            self.base / "odoo.conf",
            addons=self.addons,
            cluster=self.cluster,
            data_dir=self.base / "data",
            port=self.port,
            workers=workers,
            http_workers=http_workers,
            server_wide="base,web",
            database=database,
        )
        self.env = odoo_env(self.port, workers)
        install(self.conf, self.env, modules, database=database)
        return self.conf

    def start_server(self, log_name: str) -> OdooServer:
        """An Odoo server on the config of :meth:`install`, started; stopped at the end."""
        server = OdooServer(self.conf, self.env, self.port, log_name=log_name)
        self.servers.append(server)
        self.on_exit(server.stop)
        server.start()
        return server

    def sql(self, database: str, *statements: str) -> None:
        """Run ``statements`` on ``database`` of the cluster, in autocommit (VACUUM cannot run
        inside a transaction)."""
        import psycopg2  # noqa: PLC0415 - only the benchmarks that have a cluster need it

        settings = self.cluster.settings()
        conn = psycopg2.connect(
            dbname=database, host=settings.host, port=settings.port, user=settings.user
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cr:
                for statement in statements:
                    cr.execute(statement)
        finally:
            conn.close()

    def conditions(self) -> str:
        """What the figures were measured on, for the header of the table."""
        return (
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
            f"{self.load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end"
        )

    def close(self) -> None:
        """Stop what the run started, last first; one that fails to stop does not keep the
        others running."""
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception as exc:  # noqa: BLE001
                say(f"could not stop {getattr(stop, '__qualname__', stop)}: {exc!r}")
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)
        say(f"stopped what {self.name} started" + ("" if self.keep else f", removed {self.base}"))


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(name: str, args, work, *, children=None, keep: bool = False) -> int:
    """A benchmark's ``main()``: ``work(session, args)`` in a :class:`Session`, or, with
    ``--child``, the child process ``children[args.child](args)`` printing its JSON answer.

    A SIGTERM ends the run as Ctrl+C does; errors are one line and an exit code (with the end
    of the servers' logs); whatever the run started is stopped whatever happens.
    """
    if getattr(args, "child", None):
        print(json.dumps(children[args.child](args)))
        return 0
    signal.signal(signal.SIGTERM, _interrupt)
    session = None
    try:
        session = Session(name, keep)
        work(session, args)
        print(f"Wall time: {time.monotonic() - session.started:.0f} s.")
        return 0
    except DevError as exc:
        _print_server_logs(session)
        print(f"{name}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        _print_server_logs(session)
        print(f"{name}: failed: {exc!r}", file=sys.stderr)
        raise
    finally:
        if session is not None:
            session.close()


def _print_server_logs(session) -> None:
    for server in session.servers if session else ():
        print(f"--- end of {server.log.name} ---\n{server.tail()}", file=sys.stderr)
