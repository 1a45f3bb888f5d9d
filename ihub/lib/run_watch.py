"""Watch one run from outside its worker; wake Odoo's scheduler the moment the worker is gone.

Started by a long run's worker (``liveness.start_watch``) as a process of its own, so that it
outlives the worker being killed (a prefork server kills cron workers at their time limit). It
waits for the run's advisory lock, which PostgreSQL hands over as soon as the worker's
connection ends or the worker releases it; then it adds a trigger for iHub's job runner cron
and notifies the cron workers, so that the run is recovered within seconds instead of at the
scheduler's next poll. A run that ends normally only causes one extra, empty runner pass.

Plain psycopg2, no Odoo import: it starts in milliseconds. Reads its orders as JSON on stdin:
``{"connect": {...psycopg2 params...}, "postgres": {...}, "database": ..., "run_id": ...,
"space": ..., "notify_function": "pg_notify"}``.
"""

import json
import sys

import psycopg2
from psycopg2 import sql

# Longest a watch waits: longer runs are then left to the scheduler's own polling.
MAX_WAIT = "24h"


def main():
    orders = json.load(sys.stdin)
    with psycopg2.connect(**orders["connect"]) as connection:
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute("SELECT set_config('lock_timeout', %s, false)", [MAX_WAIT])
            cr.execute("SET application_name = 'ihub-run-watch'")
            cr.execute("SELECT pg_advisory_lock(%s, %s)", [orders["space"], orders["run_id"]])
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", [orders["space"], orders["run_id"]])
            cr.execute(
                """
                INSERT INTO ir_cron_trigger (cron_id, call_at, create_date, write_date)
                SELECT res_id, now() at time zone 'UTC', now() at time zone 'UTC',
                       now() at time zone 'UTC'
                  FROM ir_model_data
                 WHERE module = 'ihub' AND name = 'ir_cron_job_runner'
                """
            )
    # Cron workers listen on the 'postgres' database, as Odoo's own notification does.
    with psycopg2.connect(**orders["postgres"]) as connection:
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute(
                sql.SQL("SELECT {}('cron_trigger', %s)").format(
                    sql.Identifier(orders["notify_function"])
                ),
                [orders["database"]],
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
