"""dev.py pot: the addons' translation templates, ``<addon>/i18n/<addon>.pot``.

They are exported by Odoo (``--i18n-export``) from a fresh database made like the tests'
database (iHub first, then the repository's other addons, with demo data), so that a test can
export again from that database and compare (see test_ihub/tests/test_translations.py). Only
the header dates change from one export to the next: a file whose terms did not change is left
as it is.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import odoo, prereq
from .commands import database_settings
from .common import ADDONS, REPO_ROOT, DevError, child_env, rel, repo_addons, say
from .dbserver import drop_database

# The header lines that change at every export.
HEADER_DATES = re.compile(r'^"(?:POT-Creation-Date|PO-Revision-Date): .*"\n', re.MULTILINE)
POT_CONF = odoo.LOCAL_DIR / "odoo-pot.conf"


def pot_path(addon: str) -> Path:
    return REPO_ROOT / addon / "i18n" / f"{addon}.pot"


def comparable(text: str) -> str:
    """``text`` of a .pot file without the dates of its header."""
    return HEADER_DATES.sub("", text)


def cmd_pot(args) -> int:
    """Export the .pot files (or, with --check, say which ones are out of date: exit 1)."""
    env = prereq.run_checks("run")
    db = database_settings(env)
    options = odoo.machine_options(env.extra_addons_paths, db, args.database)
    conf = odoo.write_config(POT_CONF, options, base=odoo.TEST_CONF)
    drop_database(db, args.database)
    shutil.rmtree(odoo.DATA_DIR / "filestore" / args.database, ignore_errors=True)
    # In two steps like the tests' database (dev.py test): which addon owns a field that one
    # addon adds to another's model depends on the order they were installed in.
    odoo.install_modules(conf, db, args.database, ("ihub",), "-i", log_level="warn")
    odoo.install_modules(conf, db, args.database, repo_addons(), "-i", log_level="warn")
    stale = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for addon in ADDONS:
                exported = Path(tmp) / f"{addon}.pot"
                cmd = odoo.odoo_command(
                    conf,
                    "-d",
                    args.database,
                    f"--i18n-export={exported}",
                    f"--modules={addon}",
                    "--log-level=warn",
                )
                result = subprocess.run(
                    cmd, check=False, cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True
                )
                if result.returncode != 0 or not exported.exists():
                    raise DevError(f"exporting {addon} failed:\n{result.stderr[-2000:]}")
                target = pot_path(addon)
                text = exported.read_text()
                if target.exists() and comparable(target.read_text()) == comparable(text):
                    say(f"{rel(target)} is up to date")
                elif args.check:
                    stale.append(rel(target))
                else:
                    target.parent.mkdir(exist_ok=True)
                    target.write_text(text)
                    say(f"wrote {rel(target)}")
    finally:
        drop_database(db, args.database)
        shutil.rmtree(odoo.DATA_DIR / "filestore" / args.database, ignore_errors=True)
    if stale:
        print(f"Out of date: {', '.join(stale)}; run: python3 scripts/dev.py pot", flush=True)
        return 1
    return 0
