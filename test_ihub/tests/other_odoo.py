"""A running "other Odoo" with sample contacts, for tests of integrations that sync with it.

For one test::

    with other_odoo(companies=3, contacts=10, seed=1) as other:
        other.connection      # url, database, login ("ihub_sync"), api_key
        other.rpc().execute("res.partner", "search_count", [])
        other.touch(count=2, delete=1)

For a test class (one server for all its tests)::

    class TestContactsSync(WithOtherOdoo, IHubCase):
        other_companies, other_contacts, other_seed = 3, 10, 1

        def test_import(self):
            self.other.connection ...

The server is a separate Odoo process on 127.0.0.1 and a free port, on a database of its own on
the test's PostgreSQL server, copied from a template built once per server (see
scripts/devtools/other_odoo.py). Whatever happens in the test, the server is stopped and the
database and its files are removed afterwards.
"""

import itertools
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from odoo.tools import config

from .servers import connect, db_options, drop_database, free_port, odoo_launcher

# dev.py's tools are not an addon: they are imported from the repository, as bench/ does.
_SCRIPTS = str(Path(__file__).resolve().parents[2] / "scripts")
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)

from devtools.other_odoo import (  # noqa: E402
    SAMPLE_TAG,
    OdooRuntime,
    OtherOdoo,
    OtherOdooError,
    sample_data,
    stop_recorded_servers,
)

__all__ = [
    "SAMPLE_TAG",
    "OtherOdooError",
    "WithOtherOdoo",
    "other_odoo",
    "sample_data",
    "stop_recorded_servers",
]

_numbers = itertools.count(1)


def _runtime(state_dir):
    """The test's Odoo options: its addons, data folder and database server."""
    options = db_options()
    server = {
        name.lstrip("-"): value for name, value in zip(options[::2], options[1::2], strict=True)
    }
    return OdooRuntime(
        launcher=odoo_launcher(),
        options={"addons_path": config["addons_path"], "data_dir": config["data_dir"], **server},
        connect=connect,
        state_dir=Path(state_dir),
    )


@contextmanager
def other_odoo(companies=5, contacts=20, seed=0):
    """Yield a started ``OtherOdoo`` with sample data; stop and drop it all on exit.

    ``companies`` companies and ``contacts`` contacts among them, as ``sample_data(companies,
    contacts, seed)`` describes them, tagged ``SAMPLE_TAG``; ``other.connection`` gives the URL,
    database, login and API key of the sync user.
    """
    # Unique per process and call: test runs on one server must not share a database.
    database = f"{config['db_name']}_other_{os.getpid()}_{next(_numbers)}"
    state_dir = tempfile.mkdtemp(prefix="ihub-other-odoo-")
    other = OtherOdoo(_runtime(state_dir), database)
    try:
        other.create(companies=companies, contacts=contacts, seed=seed)
        other.start(port=free_port(), log_level="warn")
        yield other
    finally:
        try:
            other.drop()
        finally:
            drop_database(database)  # in case drop() failed half-way
            shutil.rmtree(state_dir, ignore_errors=True)


class WithOtherOdoo:
    """Mixin for test classes: ``cls.other``, one started other Odoo for the whole class.

    Set ``other_companies``, ``other_contacts`` and ``other_seed`` to change the sample data.
    """

    other_companies = 5
    other_contacts = 20
    other_seed = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Class cleanups run even when the rest of setUpClass fails (enterClassContext does
        # this, but only from Python 3.11; iHub supports 3.10).
        context = other_odoo(cls.other_companies, cls.other_contacts, cls.other_seed)
        cls.other = context.__enter__()
        cls.addClassCleanup(context.__exit__, None, None, None)
