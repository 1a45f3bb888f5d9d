"""A background beat that tells other workers a job's worker is still alive."""

import logging
import threading

_logger = logging.getLogger(__name__)


class Heartbeat:
    """Call ``beat()`` every ``interval`` seconds in a daemon thread, while in a ``with`` block.

    A job whose beats stop (the worker was killed, the machine restarted) is taken back by the
    next worker that sees its lease expire. A failing beat is logged and retried at the next
    interval: missing a few is what the lease's margin is for.
    """

    def __init__(self, beat, interval, name="ihub-heartbeat", on_exit=None):
        self._beat = beat
        self._on_exit = on_exit
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stopped.set()
        self._thread.join(timeout=self._interval + 5)
        if self._on_exit:
            try:
                self._on_exit()
            except Exception:
                _logger.warning("iHub heartbeat clean-up failed", exc_info=True)

    def _run(self):
        while not self._stopped.wait(self._interval):
            try:
                self._beat()
            except Exception:
                _logger.warning("iHub heartbeat failed; trying again later", exc_info=True)
