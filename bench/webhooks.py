#!/usr/bin/env python3
"""Webhooks: intake throughput and latency (P4), received -> hook latency (P5), deliveries/s.

    python3 bench/webhooks.py [--seconds 10] [--rate 50] [--concurrency 8] [--rounds 2]
                              [--workers 2]
                              [--warmup 6] [--deliveries 300] [--p5-rate 5] [--p5-count 50]
                              [--p5-cold-count 10]

A throwaway PostgreSQL cluster and one Odoo server (prefork, ``--workers`` HTTP workers and
two cron workers) with ``ihub_bench`` (bench/addons) and ``base_automation``. The same load client
(threads in this process, one keep-alive connection each) sends, to the same server:

* **iHub**: Standard Webhooks-signed pushes to the bench integration's ``/ihub/hook/<token>``
  (signature checked, event stored and committed before the 202, then handled by ``hook``
  through the runs engine);
* **native**: the same JSON to Odoo 18's ``/web/hook/<uuid>`` of a ``base.automation``
  (trigger "On webhook") whose server action creates one record (a partner tag);

first open-loop at ``--rate`` requests/s for ``--seconds``, then closed-loop with
``--concurrency`` clients (saturation) in ``--rounds`` rounds of ``--seconds`` each, in the order
iHub, native, native, iHub, … After each iHub phase the benchmark waits for the webhook lane to
handle its pushes, so that native is not measured beside iHub's background work. Prints
requests/s and p50/p99 latency of each (the rounds together) and the ratio iHub / native.
P5: ``--p5-count`` pushes at ``--p5-rate`` per second, each timed from the start of the
request's transaction that stored it to the start of its ``hook`` call (the bench hook notes
``clock_timestamp()``), median and p95; at 5/s the lane's run is still waiting for the next
push (``ihub.webhook_lane_linger_seconds``). Then the same for ``--p5-cold-count`` pushes spaced
wider than that wait: each finds no run of the lane, and one is queued, claimed and started.
Outbound: ``--deliveries`` signed deliveries to a local receiver, captured in one
transaction, per second from its commit to the last answer.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402

DATABASE = "ihub_bench_webhooks"
SECRET = "whsec_" + base64.b64encode(b"bench secret of thirty-two bytes").decode()
TOKEN = "bench-push-token"
MODULES = ("ihub_bench", "base_automation")
# Wider than the webhook lane's default wait for the next push (1 s).
COLD_SPACING = 2.0


def parse_args(argv=None):
    parser = harness.argument_parser("webhooks.py", __doc__, children=("setup", "capture", "stats"))
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop requests/s")
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop clients")
    parser.add_argument(
        "--rounds", type=int, default=2, help="saturation rounds per endpoint, alternating"
    )
    parser.add_argument("--workers", type=int, default=2, help="HTTP worker processes")
    parser.add_argument("--warmup", type=float, default=6.0, help="seconds per endpoint")
    parser.add_argument("--deliveries", type=int, default=300, help="outbound deliveries")
    parser.add_argument("--p5-rate", type=float, default=5.0, help="P5 pushes per second")
    parser.add_argument("--p5-count", type=int, default=50, help="P5 pushes")
    parser.add_argument(
        "--p5-cold-count", type=int, default=10, help="P5 pushes, each to a lane with no run"
    )
    parser.add_argument("--receiver", help=argparse.SUPPRESS)
    parser.add_argument("--since", type=float, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---- In an Odoo process


def _env(args):
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.conf])
    cr = Registry(DATABASE).cursor()
    return api.Environment(cr, SUPERUSER_ID, {})


def child_setup(args):
    """The benchmark integration (bench/addons/ihub_bench), started, with a known token and
    secret; the native automation."""
    env = _env(args)
    admin = env.ref("base.user_admin")
    sub = env["ihub.integration.bench"].create(
        {"name": "Bench pushes", "user_id": admin.id, "run_user_id": admin.id}
    )
    integration = sub.super_id
    integration.write({"webhook_token": TOKEN, "allow_private_network": True})
    env["ihub.credential"].create(
        {"integration_id": integration.id, "kind": "hmac", "name": "bench", "secret": SECRET}
    )
    integration.action_start()
    env["ir.config_parameter"].set_param("ihub.webhook_rate_limit_per_minute", "0")
    action = env["ir.actions.server"].create(
        {
            "name": "Bench: create a tag",
            "model_id": env.ref("base.model_res_partner").id,
            "state": "code",
            "code": "env['res.partner.category'].create({'name': payload.get('type', 'hook')})",
        }
    )
    automation = env["base.automation"].create(
        {
            "name": "Bench webhook",
            "model_id": env.ref("base.model_res_partner").id,
            "trigger": "on_webhook",
            "record_getter": f"model.browse({admin.partner_id.id})",
            "action_server_ids": [(6, 0, action.ids)],
        }
    )
    env.cr.commit()
    result = {"uuid": automation.webhook_uuid, "integration": integration.id}
    env.cr.close()
    return result


def child_capture(args):
    """Subscribe the receiver to partner tags, then create ``--deliveries`` tags at once."""
    env = _env(args)
    integration = env["ihub.integration"].search([("webhook_token", "=", TOKEN)])
    credential = integration.credential_ids[:1]
    env["ihub.webhook.subscription"].create(
        {
            "name": "Bench",
            "integration_id": integration.id,
            "model_id": env.ref("base.model_res_partner_category").id,
            "on_create": True,
            "target_url": args.receiver,
            "credential_id": credential.id,
        }
    )
    env.cr.commit()
    env["res.partner.category"].create([{"name": f"tag {i}"} for i in range(int(args.since))])
    env.cr.commit()
    committed = time.time()
    env.cr.close()
    return {"committed": committed}


def child_stats(args):
    """P5 and the deliveries' progress, read from the database."""
    env = _env(args)
    cr = env.cr
    latencies = {}
    for prefix in ("p5", "p5cold"):
        cr.execute(
            """
            SELECT EXTRACT(EPOCH FROM s.started_at - e.create_date)
              FROM ihub_webhook_event e JOIN ihub_bench_hook_start s ON s.event_id = e.id
             WHERE e.delivery_id LIKE %s
            """,
            [f"{prefix}-%"],
        )
        latencies[prefix] = sorted(float(row[0]) for row in cr.fetchall())
    cr.execute(
        "SELECT count(*) FILTER (WHERE state = 'received'), count(*) FROM ihub_webhook_event"
    )
    waiting, total = cr.fetchone()
    cr.execute(
        """
        SELECT count(*) FILTER (WHERE state = 'done'), count(*),
               EXTRACT(EPOCH FROM max(sent_at) AT TIME ZONE 'UTC')
          FROM ihub_webhook_delivery
        """
    )
    done, deliveries, last_sent = cr.fetchone()
    cr.execute("SELECT count(*) FROM ihub_job WHERE lane = 'webhook'")
    jobs = cr.fetchone()[0]
    cr.close()
    return {
        "latencies": latencies,
        "waiting": waiting,
        "events": total,
        "delivered": done,
        "deliveries": deliveries,
        "last_sent": float(last_sent or 0),
        "webhook_jobs": jobs,
    }


def wait_handled(conf, deadline):
    stats = child(conf, "stats")
    while stats["waiting"] and time.time() < deadline:
        time.sleep(1)
        stats = child(conf, "stats")
    return stats


def child(conf, kind, *extra):
    return harness.run_child("webhooks.py", kind, conf, *extra)


# ---- The load client


def signed_request(body, msg_id):
    key = base64.b64decode(SECRET[6:])
    stamp = str(int(time.time()))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


class Client:
    """One keep-alive connection; ``send`` returns (status, seconds)."""

    def __init__(self, port, path, signed):
        self.port, self.path, self.signed = port, path, signed
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def send(self, msg_id):
        body = json.dumps({"type": "bench.ping", "id": msg_id}).encode()
        headers = (
            signed_request(body, msg_id) if self.signed else {"Content-Type": "application/json"}
        )
        start = time.perf_counter()
        try:
            self.connection.request("POST", self.path, body=body, headers=headers)
            response = self.connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            status = 0
        return status, time.perf_counter() - start


def open_loop(port, path, signed, rate, seconds, prefix):
    """``rate`` requests/s for ``seconds``, each on its schedule (a pool of connections)."""
    results, lock = [], threading.Lock()
    count = int(rate * seconds)
    start = time.perf_counter() + 0.2
    pool = 16

    def worker(index):
        client = Client(port, path, signed)
        for n in range(index, count, pool):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            outcome = client.send(f"{prefix}-{n}")
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(pool)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - start


def closed_loop(port, path, signed, concurrency, seconds, prefix):
    results, lock = [], threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(index):
        client = Client(port, path, signed)
        n = 0
        while time.perf_counter() < deadline:
            outcome = client.send(f"{prefix}-{index}-{n}")
            n += 1
            with lock:
                results.append(outcome)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - start


def summary(results, elapsed, ok):
    good = [seconds for status, seconds in results if status in ok]
    latencies = sorted(seconds for _status, seconds in results)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "rps": len(good) / elapsed,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "errors": len(results) - len(good),
    }


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.count = 0
        self.lock = threading.Lock()


class ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.count += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


# ---- The driver


def run(session: harness.Session, args) -> None:
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    session.on_exit(receiver.shutdown)
    conf = session.install(MODULES, DATABASE, workers=2, http_workers=args.workers)
    setup = child(conf, "setup")
    session.start_server("webhooks")
    port = session.port
    paths = {"iHub": (f"/ihub/hook/{TOKEN}", True, (202,)),
             "native": (f"/web/hook/{setup['uuid']}", False, (200,))}  # fmt: skip
    # Warm-up: the workers load the registry, then each makes its first full garbage
    # collection, a 200-270 ms pause (seen with a gc callback in the workers); later ones
    # come minutes apart. Measured phases start with the webhook lane idle.
    harness.say(f"warm-up: {args.warmup:g} s per endpoint ...")
    for name, (path, signed, _ok) in paths.items():
        closed_loop(port, path, signed, args.workers * 2, args.warmup, f"warm-{name}")
    wait_handled(conf, time.time() + 600)
    raw, backlogs = {}, []

    def measure(name, load, label, run):
        harness.say(f"{name}: {label} ...")
        results, elapsed = run()
        if name == "iHub":
            # iHub handles its pushes in the background: let it finish before the next phase,
            # so that native is never measured while iHub's cron workers are busy.
            start = time.time()
            wait_handled(conf, start + 600)
            backlogs.append(time.time() - start)
        previous = raw.get((name, load), ([], 0.0))
        raw[(name, load)] = (previous[0] + results, previous[1] + elapsed)

    for name, (path, signed, _ok) in paths.items():
        measure(
            name,
            "rate",
            f"{args.rate:g} req/s for {args.seconds:g} s",
            lambda path=path, signed=signed: open_loop(
                port, path, signed, args.rate, args.seconds, "rate"
            ),
        )
    # Saturation in rounds, in the order iHub, native, native, iHub, …: a drift of the
    # machine during the run weighs on both endpoints alike.
    for round_ in range(args.rounds):
        order = list(paths.items()) if round_ % 2 == 0 else list(paths.items())[::-1]
        for name, (path, signed, _ok) in order:
            measure(
                name,
                "saturation",
                f"saturation, {args.concurrency} clients, round {round_ + 1}",
                lambda path=path, signed=signed, round_=round_: closed_loop(
                    port, path, signed, args.concurrency, args.seconds, f"sat{round_}"
                ),
            )
    figures = {key: summary(*value, paths[key[0]][2]) for key, value in raw.items()}
    stats = wait_handled(conf, time.time() + 600)
    backlog_seconds = max(backlogs)
    # P5: pushes at --p5-rate, each timed from its storage to its hook.
    harness.say(f"P5: {args.p5_count} pushes at {args.p5_rate:g}/s ...")
    open_loop(port, paths["iHub"][0], True, args.p5_rate, args.p5_count / args.p5_rate, "p5")
    wait_handled(conf, time.time() + 600)
    # Then pushes far enough apart that the lane's run has ended before each.
    spacing = COLD_SPACING
    harness.say(f"P5: {args.p5_cold_count} pushes {spacing:g} s apart ...")
    time.sleep(spacing)
    open_loop(port, paths["iHub"][0], True, 1 / spacing, args.p5_cold_count * spacing, "p5cold")
    stats = wait_handled(conf, time.time() + 600)
    stats["backlog_seconds"] = backlog_seconds
    harness.say(f"outbound: {args.deliveries} deliveries ...")
    capture = child(
        conf,
        "capture",
        "--receiver",
        f"http://127.0.0.1:{receiver.server_address[1]}/hook",
        "--since",
        str(args.deliveries),
    )
    deadline = time.time() + 600
    while receiver.count < args.deliveries and time.time() < deadline:
        time.sleep(0.2)
    outbound_seconds = time.time() - capture["committed"]
    print_report(figures, stats, receiver.count, outbound_seconds, args, session.conditions())


def main(argv=None) -> int:
    children = {"setup": child_setup, "capture": child_capture, "stats": child_stats}
    return harness.main("webhooks", parse_args(argv), run, children=children, keep=True)


def print_report(figures, stats, delivered, outbound_seconds, args, conditions):
    print(
        f"\nWebhooks: one prefork server, {args.workers} HTTP workers + 2 cron workers, "
        f"{conditions}\n"
    )
    header = f"{'load':<22} {'endpoint':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'iHub/native':>12}"  # noqa: E501
    print(header)
    print("-" * len(header))
    loads = (
        ("rate", f"{args.rate:g} req/s, {args.seconds:g} s"),
        ("saturation", f"{args.concurrency} clients, {args.rounds}x{args.seconds:g} s"),
    )
    for load, label in loads:
        native = figures[("native", load)]
        for name in ("iHub", "native"):
            f = figures[(name, load)]
            ratio = f"{f['rps'] / native['rps']:.2f}x" if name == "iHub" and native["rps"] else ""
            print(
                f"{label:<22} {name:<8} {f['rps']:>8.1f} {f['p50']:>8.1f} {f['p99']:>8.1f} "
                f"{f['errors']:>7} {ratio:>12}"
            )
    print()
    for prefix, label in (
        ("p5", f"at {args.p5_rate:g}/s"),
        ("p5cold", f"{COLD_SPACING:g} s apart, no lane run waiting"),
    ):
        latencies = stats["latencies"][prefix]
        if latencies:
            p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
            print(
                f"P5 received -> hook started ({len(latencies)} pushes {label}): "
                f"median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
            )
    print(
        f"iHub's pushes handled at most {stats['backlog_seconds']:.0f} s after a phase's last "
        f"push; {stats['webhook_jobs']} webhook-lane runs for {stats['events']} events"
    )
    print(
        f"Outbound: {delivered}/{args.deliveries} deliveries in {outbound_seconds:.1f} s = "
        f"{delivered / outbound_seconds:.1f} deliveries/s (from the capturing commit to the "
        "last answer of the local receiver)"
    )


if __name__ == "__main__":
    sys.exit(main())
