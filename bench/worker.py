"""One system, one process: start it, load the dataset, run the suite, write a JSON report.

The orchestrator (bench/run.py) runs one worker per system, so that each system's peak memory
and CPU time are its own. Two systems never run at once: the loads go one after the other,
and then (with ``--control``, the orchestrator's default) the worker runs each query only when
told to, so that the orchestrator can spread every system's runs of a query over the same
few seconds.
Without it the worker runs the whole suite on its own.
A system that cannot run here (a package that will not install, a missing binary) produces a
report with ``available: false`` and the reason, not a crash.

Per query: `warmup` untimed runs, then `reps` timed runs (client-side wall clock around the
call that returns all rows; in rounds, `warmup` untimed runs start each round); the median
is reported. The answer kept for comparison is the
first run's. A run slower than `slow_s` stops further repetitions of that query (its times so
far are kept), so one pathological query cannot eat the whole time budget.

    python -m bench.worker --system kuzu --data DIR --out FILE [--reps 5 --warmup 1 ...]

The control protocol (``--control IN,OUT``: two inherited file descriptors, not stdout, which
a peer's tools may print to): after the load the worker writes ``loaded``; then, for each
``query NAME RUNS`` line it reads, it makes that query's warm-up runs and then its next RUNS
timed runs (all that are left without RUNS) and writes ``done``; ``end`` (or the end of its input) makes it measure its
resources, write the report and exit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback

from . import queries as Q


def make_system(name: str, args):
    """(system, None) or (None, reason it is unavailable)."""
    if name == Q.NEREID:
        from .systems.nereid import Nereid

        if not os.access(args.nereid_bin, os.X_OK):
            return None, f"binary {args.nereid_bin} not found"
        return Nereid(args.nereid_bin, batch=args.batch, timeout_s=args.timeout_s,
                      load_method=args.nereid_load, client=args.nereid_client), None
    if name in (Q.KUZU, Q.LADYBUG):
        from .systems.kuzu_family import KuzuFamily

        module, dist = ("kuzu", "kuzu") if name == Q.KUZU else ("real_ladybug", "real_ladybug")
        try:
            return KuzuFamily(name, module, dist), None
        except ImportError as e:
            return None, f"python package {dist} not importable: {e}"
    if name == Q.FALKORDB:
        from .systems.falkordb import FalkorDB, unavailable_reason

        reason = unavailable_reason()
        return (None, reason) if reason else (FalkorDB(), None)
    return None, f"unknown system {name}"


class QueryRuns:
    """One query's runs on one system. ``step(n)`` makes `warmup` untimed runs, then the
    next `n` of its `reps` timed ones (the orchestrator spreads them over rounds, each round
    warming up again after the other systems' runs); ``result()`` says how they went so
    far."""

    def __init__(self, system, q: Q.Query, meta: dict, args):
        self.system, self.q, self.meta, self.args = system, q, meta, args
        self.text = q.text_for(system.name)
        self.out = {"text": self.text, "times_ms": [], "status": "ok"}
        self.runs = 0
        self.done = False

    def step(self, n: int) -> None:
        args = self.args
        for _ in range(args.warmup):
            if self.done:
                return
            self._run(timed=False)
        for _ in range(n):
            if self.done or len(self.out["times_ms"]) >= args.reps:
                return
            self._run(timed=True)
        if len(self.out["times_ms"]) >= args.reps:
            self.done = True

    def _run(self, timed: bool) -> None:
        args, out = self.args, self.out
        run = self.runs
        self.runs += 1
        params = self.q.params_for(self.system.name, self.meta["params"], run)
        t0 = time.perf_counter()
        try:
            cols, rows = self.system.query(self.text, params, args.timeout_s)
        except Exception as e:  # noqa: BLE001 - every failure is recorded, none is fatal
            kind = getattr(e, "kind", "error")
            out.update(status=kind, error=getattr(e, "message", None) or repr(e))
            self.done = True
            return
        dt = (time.perf_counter() - t0) * 1000.0
        if run == 0:
            out["columns"], out["rows"] = cols, rows
        if timed:
            out["times_ms"].append(round(dt, 3))
            if dt > args.slow_s * 1000.0 and len(out["times_ms"]) < args.reps:
                out["note"] = f"stopped after {run + 1} runs: one took {dt / 1000:.1f}s"
                self.done = True

    def result(self) -> dict:
        if self.out["times_ms"]:
            self.out["median_ms"] = round(statistics.median(self.out["times_ms"]), 3)
        return self.out


def run_query(system, q: Q.Query, meta: dict, args) -> dict:
    runs = QueryRuns(system, q, meta, args)
    runs.step(args.reps)
    return runs.result()


def main() -> None:
    ap = argparse.ArgumentParser(description="run one system of the benchmark")
    ap.add_argument("--system", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--timeout-s", type=float, default=120.0)
    ap.add_argument("--slow-s", type=float, default=20.0)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--nereid-load", choices=("loader", "http"), default="loader")
    ap.add_argument("--nereid-client", choices=("curl", "http.client"), default="curl")
    ap.add_argument("--queries", default="")
    ap.add_argument("--nereid-bin", default="target/release/nereid")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--control", default=None,
                    help="IN,OUT: file descriptors to take query commands from (see the docs)")
    args = ap.parse_args()

    meta = json.load(open(os.path.join(args.data, "meta.json")))
    report = {"system": args.system, "available": False}
    system, reason = make_system(args.system, args)
    if system is None:
        report["reason"] = reason
        json.dump(report, open(args.out, "w"), indent=1)
        return
    workdir = tempfile.mkdtemp(prefix=f"bench-{args.system}-", dir=args.workdir)
    try:
        system.start(workdir)
        report["version"] = system.version()
        report["available"] = True
        log(f"{args.system}: loading")
        report["load"] = system.load(args.data, meta)
        report["resources_after_load"] = system.resources()
        log(f"{args.system}: loaded in {report['load']['total_s']}s")
        report["queries"] = {}
        if args.control:
            started: dict[str, QueryRuns] = {}
            for q, n in control_commands(args):
                runs = started.get(q.name)
                if runs is None:
                    runs = started[q.name] = QueryRuns(system, q, meta, args)
                runs.step(args.reps if n is None else n)
                report["queries"][q.name] = r = runs.result()
                if runs.done:
                    log_query(args.system, q.name, r)
                tell("done")
        else:
            for q in Q.by_name([n for n in args.queries.split(",") if n]):
                report["queries"][q.name] = r = run_query(system, q, meta, args)
                log_query(args.system, q.name, r)
        report["resources"] = system.resources()
    except Exception as e:  # noqa: BLE001 - report the failure instead of dying silently
        report["fatal"] = f"{e!r}\n{traceback.format_exc()}"
        log(f"{args.system}: FATAL {e!r}")
    finally:
        try:
            system.close()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    json.dump(report, open(args.out, "w"), indent=1, default=str)


_control = None


def control_commands(args):
    """``(query, runs)`` for each ``query NAME [RUNS]`` line the orchestrator sends (runs
    None: all that are left), until ``end``."""
    global _control
    fd_in, fd_out = (int(x) for x in args.control.split(","))
    _control = (os.fdopen(fd_in, "r"), os.fdopen(fd_out, "w"))
    tell("loaded")
    for line in _control[0]:
        words = line.split()
        if not words or words[0] == "end":
            return
        if words[0] == "query" and len(words) in (2, 3):
            yield Q.by_name([words[1]])[0], int(words[2]) if len(words) == 3 else None


def log_query(system: str, name: str, r: dict) -> None:
    log(f"{system}: {name:<20} {r['status']:<11} {r.get('median_ms', float('nan')):>10.2f} ms"
        + (f"  {r['error'][:150]}" if "error" in r else ""))


def tell(word: str) -> None:
    _control[1].write(word + "\n")
    _control[1].flush()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
