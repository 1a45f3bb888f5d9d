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
