"""Paths, messages and subprocess helpers shared by the dev.py subcommands."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = REPO_ROOT / ".local"
# The addons `run` installs. `test` installs and tests every installable addon
# at the repository top level (see repo_addons), including test-only ones (test_*).
ADDONS = ("ihub", "ihub_demo_integration", "ihub_odoo_contacts")

# Exit codes of dev.py
EXIT_FAILED = 1
EXIT_MISSING_PREREQUISITE = 2


class DevError(Exception):
    """A failure explained to the user in one message, without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED):
        super().__init__(message)
        self.exit_code = exit_code


def say(message: str) -> None:
    """Print a progress message on stderr (stdout is kept for results)."""
    print(f"[dev] {message}", file=sys.stderr, flush=True)


def rel(path: Path | str) -> str:
    """Show ``path`` relative to the repository when it is inside it."""
    path = Path(path)
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def run_quiet(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd`` capturing its output as text; never raises on a non-zero exit."""
    try:
        return subprocess.run(
            cmd, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, **kwargs
        )
    except OSError as exc:
        return subprocess.CompletedProcess(cmd, 127, "", str(exc))


def tail(path: Path, lines: int = 50) -> str:
    """Return the last ``lines`` lines of a text file (empty if it does not exist)."""
    if not path.exists():
        return ""
    content = path.read_text(errors="replace").splitlines()
    return "\n".join(content[-lines:])


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path


# Folders prepended to PYTHONPATH of Odoo/pytest subprocesses (set by prereq when
# an ``odoo`` namespace package hides the real Odoo installation).
EXTRA_PYTHONPATH: list[str] = []


def child_env() -> dict[str, str]:
    """Environment for Odoo and pytest subprocesses."""
    env = dict(os.environ)
    if EXTRA_PYTHONPATH:
        parts = [*EXTRA_PYTHONPATH, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def python_cmd() -> list[str]:
    """The interpreter running dev.py: Odoo and pytest run under the same one."""
    return [sys.executable]


def env_value(*names: str) -> str | None:
    """The first of the environment variables ``names`` that is set (empty means unset)."""
    for name in names:
        value = os.environ.get(name)
        if value is not None:
            return value or None
    return None


def repo_addons() -> tuple[str, ...]:
    """Installable addons at the repository top level (test-only ``test_*`` ones included)."""
    names = []
    for manifest in sorted(REPO_ROOT.glob("*/__manifest__.py")):
        try:
            values = ast.literal_eval(manifest.read_text())
        except (SyntaxError, ValueError) as exc:
            raise DevError(f"{rel(manifest)} is not a valid manifest: {exc}") from exc
        if values.get("installable", True):
            names.append(manifest.parent.name)
    return tuple(names)
