"""The outbound request pace is shared by every worker and server: its state is one row in
PostgreSQL, reserved on the database's clock. Two connections stand for two servers here."""

import threading
from datetime import timedelta

from odoo.addons.ihub.lib.throttle import Quota

from .servers import RealTransactions, connect


class TestThrottleSharedByServers(RealTransactions):
    def setUp(self):
        super().setUp()
        (self.integration_id,) = self.create_committed_integrations(1)
        self.quota = Quota(limit=1, period_seconds=60)  # a slot a minute: all are ahead

    def reserve_on(self, connection):
        """One reservation through ``connection``, committed: the seconds to wait."""
        with connection.cursor() as cr:
            wait = self.env["ihub.throttle"]._ihub_reserve_in(cr, self.integration_id, self.quota)
        connection.commit()
        return wait

    def slot(self):
        with self.transaction() as env:
            env.cr.execute(
                "SELECT next_slot_at FROM ihub_throttle WHERE integration_id = %s",
                [self.integration_id],
            )
            return env.cr.fetchone()[0]

    def test_two_servers_take_turns_on_one_pace(self):
        server_a, server_b = connect(self.env.cr.dbname), connect(self.env.cr.dbname)
        self.addCleanup(server_a.close)
        self.addCleanup(server_b.close)
        self.assertEqual(self.reserve_on(server_a), 0, "the first request goes at once")
        first_slot = self.slot()
        waits = [self.reserve_on(connection) for connection in (server_b, server_a, server_b)]
        # Each server's request got the slot after the one before, whoever reserved it.
        self.assertEqual(self.slot(), first_slot + 3 * timedelta(seconds=60))
        self.assertEqual(waits, sorted(waits))
        self.assertGreater(waits[0], 55)
        self.assertGreater(waits[-1], 175)

    def test_a_reservation_waits_for_the_other_server_s_transaction(self):
        server_a, server_b = connect(self.env.cr.dbname), connect(self.env.cr.dbname)
        self.addCleanup(server_a.close)
        self.addCleanup(server_b.close)
        self.reserve_on(server_a)
        # Server A reserves but has not committed yet: B's reservation must queue behind it,
        # not read the old slot and take the same one.
        cr_a = server_a.cursor()
        self.env["ihub.throttle"]._ihub_reserve_in(cr_a, self.integration_id, self.quota)
        reserved = []
        other = threading.Thread(target=lambda: reserved.append(self.reserve_on(server_b)))
        other.start()
        other.join(timeout=1)
        self.assertTrue(other.is_alive(), "B waits for A's row lock")
        cr_a.execute(
            "SELECT next_slot_at FROM ihub_throttle WHERE integration_id = %s",
            [self.integration_id],
        )
        slot_of_a = cr_a.fetchone()[0]
        server_a.commit()
        other.join(timeout=30)
        self.assertFalse(other.is_alive())
        self.assertEqual(self.slot(), slot_of_a + timedelta(seconds=60), "B took the next slot")
