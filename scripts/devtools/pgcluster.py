"""The embedded PostgreSQL cluster used when no database server is configured.

Layout of a cluster directory: ``data/`` (PGDATA), ``run/`` (the unix socket;
the server listens on no TCP port) and ``postgres.log``. The superuser role is
``odoo`` with trust authentication, since Odoo refuses the role ``postgres``.
PostgreSQL refuses to run as root: as root, the binaries run as the
``postgres`` OS user (or ``nobody``), which then owns the cluster directory.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import re
import shlex
import shutil
from pathlib import Path

from .common import LOCAL_DIR, REPO_ROOT, DevError, rel, run_quiet, say, tail
from .dbserver import DbSettings

PORT = "5432"  # only names the socket file: listen_addresses is empty
SUPERUSER = "odoo"
MIN_MAJOR = 13
MAX_SOCKET_PATH = 100


def _binary_version(bindir: Path) -> tuple[int, str]:
    """(major, full version) of the initdb in ``bindir``; (0, "") if it does not run."""
    out = run_quiet([str(bindir / "initdb"), "--version"]).stdout
    match = re.search(r"(\d+)(?:\.(\d+))?", out or "")
    if not match:
        return 0, ""
    return int(match.group(1)), match.group(0)


def _bindir_candidates() -> list[Path]:
    """Where initdb/pg_ctl may be: pg_config --bindir, PATH, /usr/lib/postgresql/*/bin."""
    candidates = []
    if shutil.which("pg_config"):
        out = run_quiet(["pg_config", "--bindir"]).stdout.strip()
        if out:
            candidates.append(Path(out))
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).resolve().parent)

    def version_key(path: str) -> int:
        match = re.search(r"/(\d+)/bin$", path)
        return int(match.group(1)) if match else 0

    for path in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True):
        candidates.append(Path(path))
    return list(dict.fromkeys(candidates))


def find_binaries() -> tuple[Path | None, str, str]:
    """Return (bindir, version, error) of the PostgreSQL >= 13 server binaries."""
    too_old = []
    for bindir in _bindir_candidates():
        if not ((bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()):
            continue
        major, version = _binary_version(bindir)
        if major >= MIN_MAJOR:
            return bindir, version, ""
        too_old.append(f"{version or '?'} in {bindir}")
    if too_old:
        return None, "", f"only older versions found ({', '.join(too_old)})"
    return None, "", "not found (looked at pg_config --bindir, PATH, /usr/lib/postgresql/*/bin)"


def runner_user() -> str | None:
    """The OS user that runs PostgreSQL when we are root (None when we are not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


def runner_problem() -> str:
    """Why the binaries cannot be run as a non-root user, or ""."""
    if os.geteuid() != 0:
        return ""
    if runner_user() is None:
        return "running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL"
    if not any(shutil.which(tool) for tool in ("runuser", "setpriv", "su")):
        return "running as root and none of runuser, setpriv, su is available"
    return ""


def as_runner(cmd: list[str]) -> list[str]:
    """``cmd`` prefixed so that it runs as the PostgreSQL OS user when we are root."""
    user = runner_user()
    if user is None:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--", *cmd]
    if shutil.which("setpriv"):
        entry = pwd.getpwnam(user)
        return [
            "setpriv",
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--clear-groups",
            *cmd,
        ]
    return ["su", "-s", "/bin/sh", user, "-c", shlex.join(cmd)]


def can_traverse(path: Path) -> bool:
    """Whether the PostgreSQL OS user can reach ``path`` (always true when not root)."""
    if runner_user() is None:
        return True
    return run_quiet(as_runner(["test", "-x", str(path)]), cwd="/").returncode == 0


def _fallback_dir() -> Path:
    digest = hashlib.sha1(str(REPO_ROOT).encode()).hexdigest()[:8]
    return Path("/var/tmp") / f"ihub-pg-{digest}"


def _socket_ok(base: Path) -> bool:
    return len(str(base / "run" / f".s.PGSQL.{PORT}")) < MAX_SOCKET_PATH


def default_dir() -> Path:
    """The cluster directory: .local/postgres, else /var/tmp/ihub-pg-<hash> when unreachable."""
    preferred, fallback = LOCAL_DIR / "postgres", _fallback_dir()
    for base in (preferred, fallback):
        if (base / "data" / "PG_VERSION").exists():
            return base
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    if _socket_ok(preferred) and can_traverse(LOCAL_DIR):
        return preferred
    say(
        f"note: {rel(LOCAL_DIR)} is not usable by the '{runner_user()}' user (or its path is "
        f"too long for a socket); the embedded cluster lives in {fallback} instead"
    )
    return fallback


def existing_dir() -> Path | None:
    """The default cluster directory if a cluster was created there."""
    for base in (LOCAL_DIR / "postgres", _fallback_dir()):
        if (base / "data" / "PG_VERSION").exists():
            return base
    return None


class Cluster:
    """One cluster directory and the server binaries that run it."""

    def __init__(self, base: Path, bindir: Path | None = None):
        self.base = Path(base).resolve()
        self.bindir = bindir
        self.data = self.base / "data"
        self.run_dir = self.base / "run"
        self.logfile = self.base / "postgres.log"

    def settings(self) -> DbSettings:
        """How Odoo connects: through the socket directory, as the ``odoo`` role."""
        return DbSettings(
            host=str(self.run_dir), port=PORT, user=SUPERUSER, source=f"cluster {self.base}"
        )

    def _run(self, tool: str, *args: str):
        if self.bindir is None:
            self.bindir, _version, error = find_binaries()
            if error:
                raise DevError(f"PostgreSQL server binaries {error}", 2)
        return run_quiet(as_runner([str(self.bindir / tool), *args]), cwd=str(self.base))

    def initialized(self) -> bool:
        """Whether initdb has run in this directory."""
        return (self.data / "PG_VERSION").exists()

    def running(self) -> bool:
        """Whether a server is running on this data directory."""
        return (
            self.initialized()
            and self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0
        )

    def _prepare_dir(self) -> None:
        """Create the directory, owned by the PostgreSQL OS user, and check it is reachable."""
        if not _socket_ok(self.base):
            raise DevError(f"{self.base} is too long for a unix socket path; use a shorter one")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        user = runner_user()
        if user:
            entry = pwd.getpwnam(user)
            for path in (self.base, self.run_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            if not can_traverse(self.base):
                raise DevError(
                    f"user '{user}' cannot reach {self.base}: make every parent directory "
                    f"traversable (chmod o+x) or use another directory"
                )

    def init(self) -> None:
        """Create the cluster (initdb) and configure it to listen on its socket only."""
        self._prepare_dir()
        say(f"creating PostgreSQL cluster in {rel(self.base)}")
        result = self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-instructions",
        )  # fmt: skip
        if result.returncode != 0:
            raise DevError(f"initdb failed:\n{result.stdout}{result.stderr}")
        socket_dir = str(self.run_dir).replace("'", "''")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# Added by scripts/dev.py: unix socket only, no TCP.\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{socket_dir}'\n"
                f"port = {PORT}\n"
            )

    def _check_version(self) -> None:
        data_major = (self.data / "PG_VERSION").read_text().strip()
        major, version = _binary_version(self.bindir)
        if data_major != str(major):
            raise DevError(
                f"the cluster in {self.base} was made by PostgreSQL {data_major} but the "
                f"binaries are {version}: remove {self.base} (after stop-db) to recreate it"
            )

    def start(self) -> DbSettings:
        """Start the cluster (creating it first if needed); reuse it if already running."""
        if not self.initialized():
            self.init()
        if self.running():
            say(f"reusing running PostgreSQL cluster in {rel(self.base)}")
            return self.settings()
        self._check_version()
        self.run_dir.mkdir(exist_ok=True)
        result = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60", "start"
        )
        if result.returncode != 0 and not self.running():
            raise DevError(
                f"PostgreSQL did not start ({rel(self.logfile)}):\n{tail(self.logfile, 20)}"
            )
        say(f"started PostgreSQL cluster in {rel(self.base)} (socket in {rel(self.run_dir)})")
        return self.settings()

    def stop(self) -> bool:
        """Stop the cluster; return False if it was not running."""
        if not self.running():
            return False
        result = self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        if result.returncode != 0:
            raise DevError(f"pg_ctl stop failed: {result.stderr or result.stdout}")
        return True
