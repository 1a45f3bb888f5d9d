"""Prerequisite checks: Python, Odoo 18.0, its standard addons, PostgreSQL, packages.

Every check returns a :class:`Check`; ``run_checks`` prints them as a table and
raises :class:`DevError` (exit code 2) when one is missing, so no caller ever
shows a traceback for a missing prerequisite.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from importlib.machinery import PathFinder
from pathlib import Path

from . import common, dbserver, pgcluster
from .common import EXIT_MISSING_PREREQUISITE, REPO_ROOT, DevError, run_quiet

ODOO_SOURCE_DOC = "https://www.odoo.com/documentation/18.0/administration/on_premise/source.html"
PIP_FIX = f"{sys.executable} -m pip install -r {REPO_ROOT / 'requirements.txt'}"

# Requirement name -> (import name, purpose). Purposes: addons, test, lint.
KNOWN_REQUIREMENTS = {
    "requests": ("requests", "addons"),
    "pytest": ("pytest", "test"),
    "pytest-odoo": ("pytest_odoo", "test"),
    "websocket-client": ("websocket", "test"),
    "openapi-spec-validator": ("openapi_spec_validator", "test"),
    "schemathesis": ("schemathesis", "test"),
    "standardwebhooks": ("standardwebhooks", "test"),
    "ruff": ("ruff", "lint"),
    "pylint-odoo": ("pylint_odoo", "lint"),
}

# What each dev.py subcommand needs.
PROFILES = {
    "check": {"odoo", "db", "addons", "test", "lint"},
    "run": {"odoo", "db", "addons"},
    "test": {"odoo", "db", "addons", "test"},
    "db": {"db"},
}


@dataclass
class Check:
    """The outcome of one prerequisite check."""

    name: str
    ok: bool
    detail: str = ""
    fix: str = ""
    required: bool = True


@dataclass
class Environment:
    """What the checks found; used by the subcommands afterwards."""

    odoo_dir: Path | None = None
    odoo_version: str = ""
    extra_addons_paths: list[str] = field(default_factory=list)
    pg_bindir: Path | None = None
    server: dbserver.DbSettings | None = None


def check_python() -> Check:
    """Python >= 3.10 (what Odoo 18.0 supports)."""
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info >= (3, 10):  # noqa: UP036 - checked at run time on purpose
        return Check(f"Python {version} ({sys.executable})", True)
    return Check(
        f"Python {version} ({sys.executable})",
        False,
        fix="Odoo 18.0 needs Python >= 3.10: run dev.py with a newer python3.",
    )


def _release_version(odoo_dir: Path) -> str:
    """The version in ``odoo_dir``/release.py, read in a subprocess that imports it."""
    code = "import odoo, odoo.release as r; print(r.version)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(odoo_dir.parent), *sys.path[1:]]))
    result = run_quiet([sys.executable, "-c", code], env=env)
    return result.stdout.strip() if result.returncode == 0 else ""


def _hidden_odoo_dirs() -> list[Path]:
    """Odoo package dirs known to meta path finders (e.g. a setuptools editable install)."""
    dirs = []
    for finder in sys.meta_path:
        if finder is PathFinder or not hasattr(finder, "find_spec"):
            continue
        try:
            spec = finder.find_spec("odoo", None)
        except Exception:  # noqa: BLE001, S112 - a foreign finder may fail in any way
            continue
        for location in (spec and spec.submodule_search_locations) or []:
            dirs.append(Path(location))
    return dirs


def locate_odoo() -> tuple[Path | None, str, str]:
    """Return (package dir, version, error) for the ``odoo`` importable here.

    Looks at every entry of ``odoo.__path__`` for ``release.py``, so that an
    ``odoo`` namespace package (created by OCA wheels) is handled too. When such
    a namespace hides an editable Odoo install, the install is found through its
    import finder and its parent folder is put on the subprocesses' PYTHONPATH.
    """
    try:
        import odoo  # noqa: PLC0415 - imported only when checking
    except ModuleNotFoundError as exc:
        if exc.name == "odoo":
            return None, "", "no module named 'odoo'"
        return None, "", f"Odoo's own Python dependencies are missing ({exc})"
    except Exception as exc:  # noqa: BLE001 - any import failure is reported, not raised
        return None, "", f"'import odoo' failed: {exc!r}"
    paths = [Path(entry) for entry in getattr(odoo, "__path__", [])]
    for entry in paths:
        if (entry / "release.py").is_file() and getattr(odoo, "__file__", None):
            try:
                from odoo import release  # noqa: PLC0415
            except Exception as exc:  # noqa: BLE001
                return entry, "", f"'import odoo.release' failed: {exc!r}"
            return entry, str(release.version), ""
    for entry in [*paths, *_hidden_odoo_dirs()]:
        if (entry / "release.py").is_file():
            version = _release_version(entry)
            if version:
                common.EXTRA_PYTHONPATH[:] = [str(entry.parent)]
                return entry, version, ""
    return None, "", f"'odoo' imports but is not Odoo (no release.py in {[str(p) for p in paths]})"


def check_odoo(env: Environment) -> Check:
    """Odoo 18.0 importable as ``odoo`` and runnable as ``python -m odoo``."""
    odoo_dir, version, error = locate_odoo()
    fix = (
        f"Install Odoo 18.0 from source ({ODOO_SOURCE_DOC}): "
        "pip install -r <odoo>/requirements.txt && pip install -e <odoo>"
    )
    if error or not version.startswith("18."):
        found = error or f"found Odoo {version} in {odoo_dir}"
        return Check(f"Odoo 18.0 is not importable by {sys.executable} ({found})", False, fix=fix)
    if not (odoo_dir / "__main__.py").is_file():
        return Check(f"Odoo {version} in {odoo_dir} has no __main__.py", False, fix=fix)
    env.odoo_dir, env.odoo_version = odoo_dir, version
    via = f", with PYTHONPATH={common.EXTRA_PYTHONPATH[0]}" if common.EXTRA_PYTHONPATH else ""
    return Check(f"Odoo {version} ({odoo_dir}{via})", True)


def _has_standard_addons(path: Path) -> bool:
    return all((path / name / "__manifest__.py").is_file() for name in ("web", "mail"))


def check_standard_addons(env: Environment) -> Check:
    """Odoo's standard addons (web, mail): in the package, next to it, or $ODOO_ADDONS_PATH."""
    extra = [
        str(Path(p.strip()).expanduser().resolve())
        for p in os.environ.get("ODOO_ADDONS_PATH", "").split(",")
        if p.strip()
    ]
    in_package, in_source = env.odoo_dir / "addons", env.odoo_dir.parent / "addons"
    if _has_standard_addons(in_package):
        where = f"inside the odoo package: {in_package}"
    elif _has_standard_addons(in_source):
        where = f"source checkout: {in_source}"
        extra.append(str(in_source))
    else:
        where = next((p for p in extra if _has_standard_addons(Path(p))), "")
    env.extra_addons_paths = list(dict.fromkeys(extra))
    if where:
        return Check(f"Odoo standard addons web, mail ({where})", True)
    return Check(
        "Odoo's standard addons (web, mail) were not found",
        False,
        fix=(
            f"Looked in {in_package}, {in_source} and $ODOO_ADDONS_PATH. Point "
            "ODOO_ADDONS_PATH (comma separated) at the folder holding web/ and mail/, "
            "e.g. export ODOO_ADDONS_PATH=<odoo source>/addons"
        ),
    )


def check_database(env: Environment) -> Check:
    """A configured server (env vars) that answers, or PostgreSQL >= 13 server binaries."""
    server = dbserver.configured_server()
    if server:
        error = dbserver.probe(server)
        if error:
            return Check(
                f"Database server configured by {server.source} is not usable: {error}",
                False,
                fix="Fix or unset the IHUB_DB_*/PG* variables to use the embedded cluster.",
            )
        env.server = server
        return Check(f"Database server {server.describe()} (from {server.source})", True)
    bindir, version, error = pgcluster.find_binaries()
    if error:
        return Check(
            f"PostgreSQL >= 13 server binaries (initdb, pg_ctl): {error}",
            False,
            fix=(
                "Install the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql), "
                "or point IHUB_DB_HOST/IHUB_DB_PORT/IHUB_DB_USER/IHUB_DB_PASSWORD at a server."
            ),
        )
    runner_error = pgcluster.runner_problem()
    if runner_error:
        return Check(f"PostgreSQL {version} binaries: {runner_error}", False, fix=runner_error)
    env.pg_bindir = bindir
    return Check(f"PostgreSQL {version} server binaries ({bindir})", True)


def requirement_names() -> list[str]:
    """Distribution names listed in requirements.txt (plus pytest, pulled by pytest-odoo)."""
    names = ["pytest"]
    path = REPO_ROOT / "requirements.txt"
    lines = path.read_text().splitlines() if path.exists() else list(KNOWN_REQUIREMENTS)
    for line in lines:
        requirement = line.split("#", 1)[0].strip()
        if requirement and not requirement.startswith("-"):
            names.append(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower())
    return list(dict.fromkeys(names))


def check_packages(purposes: set[str]) -> list[Check]:
    """Python packages from requirements.txt: one line per purpose (addons, test, lint)."""
    checks = []
    for purpose, label in (("addons", "addons"), ("test", "tests"), ("lint", "lint")):
        if purpose not in purposes:
            continue
        wanted = [
            (name, KNOWN_REQUIREMENTS.get(name, (name.replace("-", "_"), "addons"))[0])
            for name in requirement_names()
            if KNOWN_REQUIREMENTS.get(name, (None, "addons"))[1] == purpose
        ]
        missing = [name for name, module in wanted if importlib.util.find_spec(module) is None]
        names = ", ".join(name for name, _ in wanted)
        if missing:
            checks.append(
                Check(
                    f"Python packages for {label} missing: {', '.join(missing)}",
                    False,
                    fix=PIP_FIX,
                    required=purpose != "lint",
                )
            )
        elif wanted:
            checks.append(Check(f"Python packages for {label}: {names}", True))
    return checks


def check_browser() -> Check:
    """Chrome/Chromium for Odoo's browser tours (optional: tours are skipped without it)."""
    for name in ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return Check(f"Chromium for browser tours ({path})", True, required=False)
    return Check(
        "Chrome/Chromium not found: Odoo skips browser tours (HttpCase.start_tour)",
        False,
        fix="Debian/Ubuntu: apt-get install chromium",
        required=False,
    )


def collect(profile: str) -> tuple[list[Check], Environment]:
    """Run the checks needed by ``profile`` (a key of PROFILES)."""
    wanted = PROFILES[profile]
    env = Environment()
    checks = [check_python()]
    if "odoo" in wanted:
        odoo_check = check_odoo(env)
        checks.append(odoo_check)
        if odoo_check.ok:
            checks.append(check_standard_addons(env))
    if "db" in wanted:
        checks.append(check_database(env))
    checks.extend(check_packages(wanted & {"addons", "test", "lint"}))
    if "test" in wanted:
        checks.append(check_browser())
    return checks, env


def print_table(checks: list[Check], stream=sys.stdout) -> None:
    """Print one OK/MISSING/WARN line per check, with how to fix what is missing."""
    for check in checks:
        status = "OK" if check.ok else ("MISSING" if check.required else "WARN")
        print(f"  {status:<8} {check.name}", file=stream)
        if not check.ok and check.fix:
            print(f"  {'':<8}   -> {check.fix}", file=stream)
    stream.flush()


def run_checks(profile: str, verbose: bool = False) -> Environment:
    """Check the prerequisites of ``profile``; raise DevError (exit 2) if one is missing."""
    checks, env = collect(profile)
    missing = [c for c in checks if c.required and not c.ok]
    if verbose or missing:
        stream = sys.stdout if verbose else sys.stderr
        print("iHub prerequisites:", file=stream)
        print_table(checks, stream)
    if missing:
        raise DevError(
            f"{len(missing)} prerequisite(s) missing; see the MISSING line(s) above",
            EXIT_MISSING_PREREQUISITE,
        )
    return env
