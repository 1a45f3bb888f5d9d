"""Test-wide rules for pytest (pytest-odoo runs the addons' tests).

A clean log is part of done: a test fails when Odoo logs a warning or an error that the test did
not expect. Tests that expect one capture it with ``self.assertLogs(logger, "WARNING")``.
"""

import logging

import pytest


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_unexpected_odoo_warnings():
    collector = _Collector()
    odoo_logger = logging.getLogger("odoo")
    odoo_logger.addHandler(collector)
    try:
        yield
    finally:
        odoo_logger.removeHandler(collector)
    if collector.records:
        lines = "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" for r in collector.records)
        pytest.fail(f"unexpected log records:\n{lines}", pytrace=False)


@pytest.fixture(autouse=True, scope="session")
def odoo_statics_computed_once():
    """Odoo finds its addons' static folders lazily, parsing every manifest, in the first
    request for a static file. A browser asks for several at once, and CPython 3.11's
    ``compile()`` (used by ``ast.literal_eval``) can fail when threads parse at the same time
    ("AST constructor recursion depth mismatch", CPython issue 106905): parse them here, once.
    """
    import odoo.http  # noqa: PLC0415 - pytest-odoo has configured Odoo by now

    odoo.http.root.statics  # noqa: B018
    yield
