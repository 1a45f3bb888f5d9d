"""Run Odoo's command line (like ``python3 -m odoo``) with the shim the benchmark may need.

queue_job 18.0 releases after 18.0.1.7.0 decorate ``queue.job.create`` with ``@api.private``,
which older Odoo 18.0 builds do not have. ``api.private`` only forbids calling a
method over RPC; when it is missing, the benchmark's Odoo processes (the install, the server
and the in-process client) get a no-op in its place. Nothing is written to Odoo's files.

    python3 bench/odoo_compat.py server -c odoo.conf ...
"""

import sys


def apply() -> list[str]:
    """Install the shims that this Odoo lacks; return their names."""
    from odoo import api  # noqa: PLC0415 - only once Odoo is known to be importable

    applied = []
    if not hasattr(api, "private"):

        def private(method):
            """No-op stand-in for ``odoo.api.private`` (RPC-only restriction)."""
            return method

        api.private = private
        applied.append("api.private")
    return applied


if __name__ == "__main__":
    apply()
    from odoo.cli.command import main  # noqa: PLC0415

    sys.exit(main())
