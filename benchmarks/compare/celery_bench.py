"""celery_bench.py - the Celery side of benchmarks/compare/run, and the driver
that runs it next to mpibatch.

As a Celery app (workers import it): three tasks, the seeds' workloads.
As a program: for 1 and 2 single-process workers, start the workers (timed
until they answer a ping), then one client submits each workload with
apply_async and collects every result with .get(); then the same workloads
through mpibatch at 1 and 2 ranks.  Prints a markdown table and writes
compare.json and compare.csv.  The broker (RabbitMQ on 127.0.0.1) is
started and stopped by run, which passes its URL in MB_BROKER.
"""
import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy
from celery import Celery

app = Celery("celery_bench", broker=os.environ.get("MB_BROKER", "amqp://127.0.0.1//"),
             backend="rpc://")
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                worker_hijack_root_logger=False)


@app.task
def empty():
    return None


@app.task
def sleeper(seconds):
    time.sleep(seconds)
    return "hello world"


@app.task
def euler_block(first, last):
    i = numpy.arange(first, last + 1, dtype=numpy.float64)
    return float(numpy.sum(1.0 / (i * i)))


def blocks(n, b):
    """mpibatch's split: the first n % b blocks get one term more."""
    size, extra, first = n // b, n % b, 1
    for k in range(b):
        last = first + size - 1 + (k < extra)
        yield first, last
        first = last + 1


def submit_all(signatures):
    """Seconds from the first apply_async to the last .get(), and the results."""
    start = time.perf_counter()
    pending = [s.apply_async() for s in signatures]
    results = [p.get(timeout=600) for p in pending]
    return time.perf_counter() - start, results


class Workers:
    """n single-process (solo pool) workers on this host."""

    def __init__(self, n, logdir):
        here = os.path.dirname(os.path.abspath(__file__))
        env = dict(os.environ, PYTHONPATH=here + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.start = time.perf_counter()
        self.procs = [subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "celery_bench", "worker", "--pool", "solo",
             "--hostname", f"w{k}@%h", "--loglevel", "WARNING", "--without-gossip",
             "--without-mingle"],
            cwd=here, env=env, stdout=open(os.path.join(logdir, f"worker{k}.log"), "w"),
            stderr=subprocess.STDOUT) for k in range(n)]
        while len(app.control.ping(timeout=0.1) or []) < n:
            if any(p.poll() is not None for p in self.procs):
                sys.exit(f"compare: a Celery worker died; see {logdir}")
        self.startup = time.perf_counter() - self.start

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=30)


def mpibatch(mb, ranks, args):
    """Job seconds (the report's wall_seconds) and whole-process seconds."""
    with tempfile.NamedTemporaryFile(suffix=".json") as rep:
        start = time.perf_counter()
        subprocess.run(["mpirun", "-n", str(ranks), mb] + args + ["--report", rep.name, "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        process = time.perf_counter() - start
        return json.load(open(rep.name))["wall_seconds"], process


def median_of(repeats, run):
    """Median of each element of the tuples run() returns."""
    samples = [run() for _ in range(repeats)]
    return tuple(statistics.median(s[k] for s in samples) for k in range(len(samples[0])))


def workloads(q):
    """name -> (signatures for Celery, args for mpibatch, tasks)."""
    w = {
        "empty": ([empty.s() for _ in range(q["empty"])],
                  ["sleep", "--seconds", "0", "--tasks", str(q["empty"])], q["empty"]),
        "sleeper": ([sleeper.s(q["sleep_seconds"]) for _ in range(q["sleep_tasks"])],
                    ["sleep", "--seconds", str(q["sleep_seconds"]), "--tasks", str(q["sleep_tasks"])],
                    q["sleep_tasks"]),
    }
    for b in q["euler_blocks"]:
        w[f"euler {b} blocks"] = ([euler_block.s(f, l) for f, l in blocks(q["euler_terms"], b)],
                                  ["euler", "--terms", str(q["euler_terms"]), "--blocks", str(b)], b)
    return w


def measure(args, q):
    rows = []
    logdir = tempfile.mkdtemp(prefix="mpibatch-compare.")
    for n in (1, 2):
        workers = Workers(n, logdir)
        try:
            rows.append({"system": "celery", "workers": n, "workload": "start-up",
                         "seconds": workers.startup, "process_seconds": workers.startup})
            for name, (sigs, _, tasks) in workloads(q).items():
                secs, = median_of(args.repeats, lambda: submit_all(sigs)[:1])
                rows.append({"system": "celery", "workers": n, "workload": name, "tasks": tasks,
                             "seconds": secs, "process_seconds": secs})
        finally:
            workers.stop()
        _, process = median_of(args.repeats, lambda: mpibatch(args.mpibatch, n, ["sleep", "--tasks", "1", "--seconds", "0"]))
        rows.append({"system": "mpibatch", "workers": n, "workload": "start-up",
                     "seconds": process, "process_seconds": process})
        for name, (_, mb_args, tasks) in workloads(q).items():
            job, process = median_of(args.repeats, lambda: mpibatch(args.mpibatch, n, mb_args))
            rows.append({"system": "mpibatch", "workers": n, "workload": name, "tasks": tasks,
                         "seconds": job, "process_seconds": process})
    shutil.rmtree(logdir)
    for r in rows:
        if r.get("tasks"):
            r["tasks_per_second"] = r["tasks"] / r["seconds"]
    return rows


def summary(rows):
    """One line per workload and worker count: both systems and the ratio."""
    def get(system, n, w):
        return next(r for r in rows if (r["system"], r["workers"], r["workload"]) == (system, n, w))
    out = []
    for w in dict.fromkeys(r["workload"] for r in rows):
        for n in (1, 2):
            c, m = get("celery", n, w), get("mpibatch", n, w)
            line = {"workload": w, "workers": n, "celery_seconds": c["seconds"],
                    "mpibatch_seconds": m["seconds"],
                    "mpibatch_times_faster": c["seconds"] / m["seconds"]}
            if "tasks_per_second" in c:
                line["celery_tasks_per_second"] = c["tasks_per_second"]
                line["mpibatch_tasks_per_second"] = m["tasks_per_second"]
            if n == 2 and w != "start-up":
                line["celery_speedup"] = get("celery", 1, w)["seconds"] / c["seconds"]
                line["mpibatch_speedup"] = get("mpibatch", 1, w)["seconds"] / m["seconds"]
            out.append(line)
    return out


def print_table(lines):
    print("| workload | workers / ranks | Celery s | mpibatch s | Celery tasks/s | mpibatch tasks/s "
          "| mpibatch / Celery | speedup 1->2 Celery | speedup 1->2 mpibatch |")
    print("|---|---|---|---|---|---|---|---|---|")
    f = lambda v, fmt: format(v, fmt) if v is not None else ""
    for s in lines:
        print(f"| {s['workload']} | {s['workers']} | {s['celery_seconds']:.4g} | "
              f"{s['mpibatch_seconds']:.4g} | {f(s.get('celery_tasks_per_second'), '.4g')} | "
              f"{f(s.get('mpibatch_tasks_per_second'), '.4g')} | {s['mpibatch_times_faster']:.3g}x | "
              f"{f(s.get('celery_speedup'), '.3g')} | {f(s.get('mpibatch_speedup'), '.3g')} |")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mpibatch", required=True)
    p.add_argument("--out", default="results")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int)
    p.add_argument("--machine", default="")
    args = p.parse_args()
    if args.quick:
        q = dict(empty=1000, sleep_tasks=4, sleep_seconds=0.1, euler_terms=10**8, euler_blocks=[100])
    else:
        q = dict(empty=10000, sleep_tasks=8, sleep_seconds=0.5, euler_terms=10**8,
                 euler_blocks=[100, 10000])
    args.repeats = args.repeats or (1 if args.quick else 3)
    rows = measure(args, q)
    lines = summary(rows)
    print_table(lines)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "compare.json"), "w") as f:
        json.dump({"machine": args.machine, "repeats": args.repeats, "workloads": q,
                   "seconds": "Celery: first apply_async to last .get(), workers already up; "
                              "mpibatch: the report's wall_seconds (mpirun start-up excluded); "
                              "start-up: Celery workers until they answer a ping, mpirun of a "
                              "1-task job",
                   "summary": lines, "runs": rows}, f, indent=1)
    with open(os.path.join(args.out, "compare.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for s in lines for k in s)))
        w.writeheader()
        w.writerows(lines)
    print(f"\nwrote {args.out}/compare.json and {args.out}/compare.csv")


if __name__ == "__main__":
    main()
