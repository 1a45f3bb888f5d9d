"""Which link lifecycle hook (``activate``, ``deactivate``, ``test_connection``) iHub is calling.

Like ``progress.executing`` for runs: only iHub's own paths (Start, Stop, Disconnect, deletion,
Test Connection) put an integration here, so that the hook's guard and the secret accessor
can tell such a call from one driven over RPC.
"""

import threading
from contextlib import contextmanager

_calling = threading.local()


def _stack():
    if not hasattr(_calling, "stack"):
        _calling.stack = []
    return _calling.stack


@contextmanager
def calling(integration_id, method):
    """Mark that iHub calls ``method`` of ``integration_id`` in this thread, for the block."""
    stack = _stack()
    stack.append((integration_id, method))
    try:
        yield
    finally:
        stack.pop()


def is_calling(integration_id, method=None):
    """Whether iHub is calling ``method`` (any hook when None) of ``integration_id`` here."""
    return any(called == integration_id and method in (None, name) for called, name in _stack())
