#!/usr/bin/env python3
"""iHub benchmarks: job throughput against OCA queue_job and the physical floor, and "run now"
latency, in Odoo's threaded and prefork servers.

    python3 bench/run.py [--jobs 500] [--workers-list 2,4] [--modes threaded,prefork]
                         [--rounds 2] [--latency-runs 20]

Starts a PostgreSQL cluster of its own in a temporary folder, creates a database with the
bench addons (``bench/addons``: a do-nothing iHub integration, and a do-nothing method for
queue_job, downloaded once into ``.local/bench``). Then, for each mode and each W, starts one
Odoo server with W cron threads (threaded) or W cron worker processes (prefork), W iHub runner
crons and queue_job's runner with channel ``root:W``, plus W worker processes of the physical
floor (``bench/floor.py``: a bare PostgreSQL queue), and times, from this process, the same
work through the three systems one after the other. Prints a table of the figures, the
ratios and the targets; asserts nothing (exit code 0 unless the benchmark itself could not
run). Everything it started is stopped and removed at the end. See bench/README.md.
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

QUEUE_JOB_TARGET = 3.0  # iHub jobs/s over queue_job jobs/s, at least
FLOOR_TARGET = 0.5  # iHub jobs/s over the floor's jobs/s, at least
LATENCY_TARGET = 1.0  # seconds, median
MODES = ("threaded", "prefork")
SYSTEMS = ("iHub", "queue_job", "floor")


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"numbers >= 1 expected: {text!r}")
    return values


def _modes(text: str) -> list[str]:
    modes = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(modes) - set(MODES)
    if not modes or unknown:
        raise argparse.ArgumentTypeError(f"modes are {', '.join(MODES)}: {text!r}")
    return modes


def parse_args(argv=None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__.split("\n\n")[0].strip()
    )
    parser.add_argument("--jobs", type=int, default=500, help="jobs per throughput batch (500)")
    parser.add_argument(
        "--workers-list", type=_int_list, default=[2, 4], metavar="W[,W...]",
        help="values of W to measure: cron threads or cron worker processes = iHub runner "
        "crons = queue_job channel capacity = floor workers (2,4); W above twice the CPUs "
        "(8 on 2 cores) is reported only",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, metavar="W", help="one value of W (same as --workers-list W)"
    )
    parser.add_argument(
        "--modes", type=_modes, default=list(MODES), metavar="MODE[,MODE...]",
        help="Odoo server modes: threaded (--workers 0) and/or prefork (threaded,prefork)",
    )  # fmt: skip
    parser.add_argument(
        "--http-workers", type=int, metavar="N",
        help="prefork HTTP workers (default: max(2, W), so that queue_job, whose jobs run in "
        "HTTP requests, can run W at a time)",
    )  # fmt: skip
    parser.add_argument(
        "--jobs-per-integration", type=int, default=10,
        help="iHub throughput jobs per integration; runs of one integration never overlap (10)",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2, help="throughput rounds per system (2)")
    parser.add_argument(
        "--latency-runs", type=int, default=20,
        help="'run now' latency samples per system and configuration (20)",
    )  # fmt: skip
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
    parser.add_argument("--port", type=int, help="Odoo HTTP port (default: a free one per server)")
    parser.add_argument(
        "--queue-job-version", metavar="VERSION",
        help="queue_job release to compare with, e.g. 18.0.1.7.0 (default: the newest 18.0)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.workers is not None:
        args.workers_list = [args.workers]
    if min(args.jobs, args.jobs_per_integration, args.rounds, *args.workers_list) < 1:
        parser.error("--jobs, --workers, --jobs-per-integration and --rounds must be >= 1")
    if args.http_workers is not None and args.http_workers < 1:
        parser.error("--http-workers must be >= 1")
    if args.latency_runs < 2:
        parser.error("--latency-runs must be >= 2")
    return args


def reported_only(workers: int) -> bool:
    """More workers than the machine can run (above twice its CPUs): shown, not judged."""
    return workers > 2 * (os.cpu_count() or 1)


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def measure(client, args, workers: int) -> dict:
    """Warm the systems up, then the interleaved throughput rounds, then the latencies."""
    timeout = max(120.0, args.jobs * 0.5)
    say("warming up (queue_job's runner starts 5 s after the server) ...")
    warm = max(10, 4 * workers)
    runs = {
        "iHub": client.ihub_batch,
        "queue_job": client.queue_job_batch,
        "floor": client.floor_batch,
    }
    for run in runs.values():
        run(warm, timeout)
    for _number in range(3):
        client.ihub_latency(args.latency_poll)
        client.queue_job_latency(args.latency_poll)

    batches = {system: [] for system in SYSTEMS}
    for round_number in range(1, args.rounds + 1):
        for system, run in runs.items():
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


def _table(rows: list[tuple[str, ...]]) -> None:
    """Print ``rows`` (the first is the header) as aligned columns, text left, figures right."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]

    def line(cells):
        return "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(line(rows[0]))
    print("  ".join("-" * width for width in widths))
    for row in rows[1:]:
        print(line(row))


def _met(value: bool, workers: int) -> str:
    if reported_only(workers):
        return f"reported only ({os.cpu_count()} cores)"
    return "yes" if value else "NO"


def print_report(results: list[dict], args, info: dict) -> None:
    """The results tables and the details needed to read them."""
    throughput = [
        ("Mode", "W", "iHub", "queue_job", "floor", "iHub/qj", f">= {QUEUE_JOB_TARGET:g} x",
         "iHub/floor", f">= {FLOOR_TARGET:g} x")
    ]  # fmt: skip
    queueing = [("Mode", "W", "iHub", "queue_job", "floor", "iHub/qj", "iHub/floor")]
    latency = [
        ("Mode", "W", "iHub median", "qj median", "iHub p95", "qj p95",
         f"< {LATENCY_TARGET * 1000:.0f} ms")
    ]  # fmt: skip
    for result in results:
        mode, workers = result["mode"], result["workers"]
        batches, latencies = result["batches"], result["latencies"]
        rate = {system: max(b.rate for b in runs) for system, runs in batches.items()}
        rate_all = {
            system: max(b.rate_with_queueing for b in runs) for system, runs in batches.items()
        }
        to_qj = rate["iHub"] / rate["queue_job"]
        to_floor = rate["iHub"] / rate["floor"]
        throughput.append(
            (mode, str(workers), *(f"{rate[system]:.1f}" for system in SYSTEMS),
             f"{to_qj:.2f}", _met(to_qj >= QUEUE_JOB_TARGET, workers),
             f"{to_floor:.2f}", _met(to_floor >= FLOOR_TARGET, workers))
        )  # fmt: skip
        queueing.append(
            (mode, str(workers), *(f"{rate_all[system]:.1f}" for system in SYSTEMS),
             f"{rate_all['iHub'] / rate_all['queue_job']:.2f}",
             f"{rate_all['iHub'] / rate_all['floor']:.2f}")
        )  # fmt: skip
        median = {system: statistics.median(values) for system, values in latencies.items()}
        p95 = {system: percentile(values, 0.95) for system, values in latencies.items()}
        latency.append(
            (mode, str(workers),
             *(f"{value[system] * 1000:.0f}" for value in (median, p95)
               for system in ("iHub", "queue_job")),
             _met(median["iHub"] < LATENCY_TARGET, workers))
        )  # fmt: skip

    print()
    print(
        f"iHub benchmark: {args.jobs} jobs x {args.rounds} rounds, W = "
        f"{', '.join(map(str, args.workers_list))}, modes {', '.join(args.modes)}, "
        f"{args.latency_runs} latency runs; {info['machine']}"
    )
    print(f"Load average at start / end: {info['load_before']} / {_load()} (1, 5, 15 min)")
    print()
    print("Throughput, jobs/s (higher is better; best of the rounds)")
    _table(throughput)
    print()
    print("Throughput with the time to queue the batch included, jobs/s (no target)")
    _table(queueing)
    print()
    print("Run-now latency, ms (commit of one queued run to the poll that saw it started)")
    _table(latency)
    print()
    print(
        "Throughput: timed from the commit of the batch to the poll that saw all "
        f"{args.jobs} finished (poll every {args.poll * 1000:.0f} ms). Rounds, jobs/s "
        "(queueing time, s; jobs not done):"
    )
    for result in results:
        for system, runs in result["batches"].items():
            rates = ", ".join(f"{b.rate:.1f} ({b.enqueue_seconds:.2f} s; {b.failed})" for b in runs)
            print(f"  {result['mode']:<8} W={result['workers']} {system:<9} {rates}")
    for result in results:
        for system, runs in result["batches"].items():
            failed = sum(b.failed for b in runs)
            if failed:
                print(
                    f"  WARNING: {failed} {system} job(s) of {result['mode']} W="
                    f"{result['workers']} did not end done: that row times failures."
                )
    print(
        f"Latency: poll every {args.latency_poll * 1000:.0f} ms, {args.latency_gap:.1f} s "
        "between runs; min / mean / max, ms:"
    )
    for result in results:
        for system, values in result["latencies"].items():
            print(
                f"  {result['mode']:<8} W={result['workers']} {system:<9} "
                f"{min(values) * 1000:.0f} / {statistics.mean(values) * 1000:.0f} / "
                f"{max(values) * 1000:.0f}"
            )
    print(
        f"Setup: iHub W runner crons (jobs spread over {info['integrations']} integrations), "
        f"queue_job {info['queue_job']} channel root:W, floor W worker processes "
        "(bench/floor.py, LISTEN/NOTIFY wake-up); one Odoo server per row: threaded = "
        "W cron threads, prefork = W cron worker processes and "
        f"{args.http_workers or 'max(2, W)'} HTTP workers; "
        f"{info['crons_switched_off']} other crons switched off."
    )


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def run_configuration(client, args, tmp, cluster, addons, mode: str, workers: int) -> dict:
    """Start an Odoo server and the floor's workers for (mode, W), measure, stop them."""
    say(f"--- {mode} server, W = {workers} ---")
    port = args.port or harness.free_port()
    http_workers = 0 if mode == "threaded" else args.http_workers or max(2, workers)
    conf = harness.write_config(
        tmp / f"odoo-{mode}-{workers}.conf",
        addons=addons,
        cluster=cluster,
        data_dir=tmp / "data",
        port=port,
        workers=workers,
        http_workers=http_workers,
    )
    env = harness.odoo_env(port, workers)
    runners = client.set_workers(workers)
    server = harness.OdooServer(conf, env, port, log_name=f"server-{mode}-{workers}")
    floor = harness.FloorWorkers(workers, cluster.settings(), harness.DATABASE, 3600)
    try:
        server.start()
        floor.start()
        result = measure(client, args, workers)
    except Exception:
        print(f"--- end of the server log ---\n{server.tail()}", file=sys.stderr)
        raise
    finally:
        floor.stop()
        server.stop()
    return {"mode": mode, "workers": workers, "runner_crons": runners, **result}


def main(argv=None) -> int:
    """Set up, measure, print, and tear everything down whatever happens."""
    args = parse_args(argv)
    load_before = _load()
    # A SIGTERM ends the run like Ctrl+C does, through the finally blocks below.
    signal.signal(signal.SIGTERM, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="ihub-bench-"))
    os.chmod(tmp, 0o755)  # the postgres OS user must reach its cluster directory
    cluster = client = None
    started = time.monotonic()
    try:
        queue_job_path, queue_job_version = harness.ensure_queue_job(args.queue_job_version)
        addons = [
            *harness.odoo_addons_paths(),
            str(harness.REPO_ROOT),
            str(harness.BENCH_DIR / "addons"),
            str(queue_job_path),
        ]
        cluster = harness.start_cluster(tmp / "pg")
        port = harness.free_port()
        conf = harness.write_config(
            tmp / "odoo.conf",
            addons=addons,
            cluster=cluster,
            data_dir=tmp / "data",
            port=port,
            workers=max(args.workers_list),
        )
        env = harness.odoo_env(port, max(args.workers_list))
        harness.install(conf, env)
        os.environ.update(env)  # the client process reads queue_job's settings too

        import odoo_compat  # noqa: PLC0415 - imports Odoo, after the checks above
        from measure import Client  # noqa: PLC0415

        shims = odoo_compat.apply()
        client_log = harness.LOG_DIR / "client.log"
        client_log.unlink(missing_ok=True)
        client = Client(conf, harness.DATABASE, cluster.settings(), client_log, args.poll)
        integrations = math.ceil(args.jobs / args.jobs_per_integration)
        info = client.setup(integrations)
        info.update(
            integrations=integrations,
            queue_job=queue_job_version + (f" (shim: {', '.join(shims)})" if shims else ""),
            machine=f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
            load_before=load_before,
        )
        results = [
            run_configuration(client, args, tmp, cluster, addons, mode, workers)
            for mode in args.modes
            for workers in args.workers_list
        ]
        print_report(results, args, info)
        print(f"Wall time: {time.monotonic() - started:.0f} s.")
        return 0
    except DevError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"bench: failed: {exc!r}", file=sys.stderr)
        raise
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        say("stopped the servers and the cluster, removed " + str(tmp))


if __name__ == "__main__":
    sys.exit(main())
