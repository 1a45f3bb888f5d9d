#!/usr/bin/env python3
"""iHub benchmarks: job throughput against OCA queue_job, and "run now" latency.

    python3 bench/run.py [--jobs 500] [--workers 2] [--latency-runs 30] [--rounds 2]

Starts a PostgreSQL cluster of its own in a temporary folder, creates a database with the
bench addons (``bench/addons``: a do-nothing iHub integration, and a do-nothing method for
queue_job, downloaded once into ``.local/bench``), starts one Odoo server with W cron threads,
W iHub runner crons and queue_job's runner with channel ``root:W``, and times, from this
process, the same work through both systems one after the other. Prints a table of the
figures, the baseline, the ratio and the target; asserts nothing (exit code 0 unless the
benchmark itself could not run). Everything it started is stopped and removed at the end.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness
from harness import DevError, say

THROUGHPUT_TARGET = 1.5  # iHub jobs/s over queue_job jobs/s
LATENCY_TARGET = 1.0  # seconds, median


def parse_args(argv=None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__.split("\n\n")[0].strip()
    )
    parser.add_argument("--jobs", type=int, default=500, help="jobs per throughput batch (500)")
    parser.add_argument(
        "--workers", type=int, default=2, help="cron threads = iHub runner crons = queue_job "
        "channel capacity (2)"
    )  # fmt: skip
    parser.add_argument(
        "--jobs-per-integration", type=int, default=10,
        help="iHub throughput jobs per integration; runs of one integration never overlap (10)",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds per system (2)")
    parser.add_argument(
        "--latency-runs", type=int, default=30, help="'run now' latency samples per system (30)"
    )
    parser.add_argument(
        "--latency-gap", type=float, default=0.2,
        help="seconds between the end of one latency sample and the next (0.2)",
    )  # fmt: skip
    parser.add_argument(
        "--latency-poll", type=float, default=0.005, help="latency poll interval in s (0.005)"
    )
    parser.add_argument(
        "--poll", type=float, default=0.01, help="throughput poll interval in s (0.01)"
    )
    parser.add_argument("--port", type=int, help="Odoo HTTP port (default: a free one)")
    parser.add_argument(
        "--queue-job-version", metavar="VERSION",
        help="queue_job release to compare with, e.g. 18.0.1.7.0 (default: the newest 18.0)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if min(args.jobs, args.workers, args.jobs_per_integration, args.rounds) < 1:
        parser.error("--jobs, --workers, --jobs-per-integration and --rounds must be >= 1")
    if args.latency_runs < 2:
        parser.error("--latency-runs must be >= 2")
    return args


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measure(client, args) -> dict:
    """Warm both systems up, then the interleaved throughput rounds, then the latencies."""
    timeout = max(120.0, args.jobs * 0.5)
    say("warming up (queue_job's runner starts 5 s after the server) ...")
    warm = max(10, 4 * args.workers)
    client.ihub_batch(warm, timeout)
    client.queue_job_batch(warm, timeout)
    for _number in range(3):
        client.ihub_latency(args.latency_poll)
        client.queue_job_latency(args.latency_poll)

    batches = {"iHub": [], "queue_job": []}
    for round_number in range(1, args.rounds + 1):
        for system, run in (("iHub", client.ihub_batch), ("queue_job", client.queue_job_batch)):
            batch = run(args.jobs, timeout)
            batches[system].append(batch)
            say(
                f"round {round_number} {system:<9}: {batch.jobs} jobs in {batch.seconds:.2f} s "
                f"= {batch.rate:.1f} jobs/s (queued in {batch.enqueue_seconds:.2f} s, "
                f"{batch.failed} not done)"
            )

    latencies = {"iHub": [], "queue_job": []}
    say(f"latency: {args.latency_runs} runs per system ...")
    for _number in range(args.latency_runs):
        for system, run in (
            ("iHub", client.ihub_latency),
            ("queue_job", client.queue_job_latency),
        ):
            time.sleep(args.latency_gap)
            latencies[system].append(run(args.latency_poll))
    return {"batches": batches, "latencies": latencies}


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _figure(label, ihub, baseline, unit_scale=1.0, digits=1, target="-", met=None):
    """One row of the table: the figure for iHub, for queue_job, their ratio, the target."""
    verdict = "-" if met is None else "yes" if met else "NO"
    return (
        label,
        f"{ihub * unit_scale:.{digits}f}",
        f"{baseline * unit_scale:.{digits}f}",
        f"{ihub / baseline:.2f}",
        target,
        verdict,
    )


def print_report(results: dict, args, info: dict) -> None:
    """The results table and the details needed to read it."""
    batches, latencies = results["batches"], results["latencies"]
    rate = {system: max(b.rate for b in runs) for system, runs in batches.items()}
    rate_all = {system: max(b.rate_with_queueing for b in runs) for system, runs in batches.items()}
    median = {system: statistics.median(values) for system, values in latencies.items()}
    p95 = {system: percentile(values, 0.95) for system, values in latencies.items()}
    ratio = rate["iHub"] / rate["queue_job"]
    rows = [
        ("Figure", "iHub", "queue_job", "iHub/qj", "Target", "Met"),
        _figure(
            "Throughput, jobs/s (higher is better)",
            rate["iHub"],
            rate["queue_job"],
            target=f">= {THROUGHPUT_TARGET} x",
            met=ratio >= THROUGHPUT_TARGET,
        ),
        _figure("  same, queueing time included", rate_all["iHub"], rate_all["queue_job"]),
        _figure(
            "Run-now latency median, ms",
            median["iHub"],
            median["queue_job"],
            1000,
            0,
            target=f"< {LATENCY_TARGET * 1000:.0f} ms",
            met=median["iHub"] < LATENCY_TARGET,
        ),
        _figure("Run-now latency p95, ms", p95["iHub"], p95["queue_job"], 1000, 0),
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]

    def line(cells):
        return "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    print()
    print(
        f"iHub benchmark: {args.jobs} jobs x {args.rounds} rounds, {args.workers} worker(s), "
        f"{args.latency_runs} latency runs; {info['machine']}"
    )
    print(f"Load average at start / end: {info['load_before']} / {_load()} (1, 5, 15 min)")
    print(line(rows[0]))
    print("  ".join("-" * width for width in widths))
    for row in rows[1:]:
        print(line(row))
    print()
    print(
        "Throughput: best of the rounds, timed from the commit of the batch to the poll that "
        f"saw all {args.jobs} finished (poll every {args.poll * 1000:.0f} ms)."
    )
    for system, runs in batches.items():
        rates = ", ".join(f"{b.rate:.1f}" for b in runs)
        queued = ", ".join(f"{b.enqueue_seconds:.2f}" for b in runs)
        failed = sum(b.failed for b in runs)
        print(f"  {system:<9} rounds: {rates} jobs/s; queued in {queued} s; not done: {failed}")
    print(
        f"Latency: commit of one queued run to the poll that saw it started (poll every "
        f"{args.latency_poll * 1000:.0f} ms, {args.latency_gap:.1f} s between runs)."
    )
    for system, values in latencies.items():
        print(
            f"  {system:<9} min {min(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms, "
            f"mean {statistics.mean(values) * 1000:.0f} ms"
        )
    print(
        f"Setup: iHub {info['runner_crons']} runner crons (jobs spread over "
        f"{info['integrations']} integrations), queue_job {info['queue_job']} channel "
        f"root:{args.workers}, one Odoo server with {args.workers} cron thread(s); "
        f"{info['crons_switched_off']} other crons switched off."
    )


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    """Set up, measure, print, and tear everything down whatever happens."""
    args = parse_args(argv)
    load_before = _load()
    # A SIGTERM ends the run like Ctrl+C does, through the finally blocks below.
    signal.signal(signal.SIGTERM, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="ihub-bench-"))
    os.chmod(tmp, 0o755)  # the postgres OS user must reach its cluster directory
    cluster = server = client = None
    try:
        queue_job_path, queue_job_version = harness.ensure_queue_job(args.queue_job_version)
        addons = [
            *harness.odoo_addons_paths(),
            str(harness.REPO_ROOT),
            str(harness.BENCH_DIR / "addons"),
            str(queue_job_path),
        ]
        cluster = harness.start_cluster(tmp / "pg")
        port = args.port or harness.free_port()
        conf = harness.write_config(
            tmp / "odoo.conf",
            addons=addons,
            cluster=cluster,
            data_dir=tmp / "data",
            port=port,
            workers=args.workers,
        )
        env = harness.odoo_env(port, args.workers)
        harness.install(conf, env)
        os.environ.update(env)  # the client process reads queue_job's settings too

        import odoo_compat  # noqa: PLC0415 - imports Odoo, after the checks above
        from measure import Client  # noqa: PLC0415

        shims = odoo_compat.apply()
        client_log = harness.LOG_DIR / "client.log"
        client_log.unlink(missing_ok=True)
        client = Client(conf, harness.DATABASE, cluster.settings(), client_log, args.poll)
        integrations = math.ceil(args.jobs / args.jobs_per_integration)
        info = client.setup(args.workers, integrations)
        info.update(
            integrations=integrations,
            queue_job=queue_job_version + (f" (shim: {', '.join(shims)})" if shims else ""),
            machine=f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
            load_before=load_before,
        )
        server = harness.OdooServer(conf, env, port)
        server.start()
        results = measure(client, args)
        print_report(results, args, info)
        return 0
    except DevError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if server is not None:
            print(f"--- end of the server log ---\n{server.tail()}", file=sys.stderr)
        print(f"bench: failed: {exc!r}", file=sys.stderr)
        raise
    finally:
        if client is not None:
            client.close()
        if server is not None:
            server.stop()
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        say("stopped the server and the cluster, removed " + str(tmp))


if __name__ == "__main__":
    sys.exit(main())
