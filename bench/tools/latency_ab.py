"""A/B of nereid binaries on the suite's small queries: per binary and query, the median of a
hot loop over the harness's own client, with the client's and the server's CPU per request.

    bench/.venv/bin/python -m bench.tools.latency_ab --persons 100000 \
        --bin old=/path/to/old/nereid --bin new=target/release/nereid \
        --queries point_lookup,two_hop_distinct --requests 3000 --passes 2

Each pass starts every binary in turn (a fresh data dir, the bulk loader), so the binaries
alternate and share the machine's drift. The dataset is generated under bench/data/ if it is
not there yet. Not a substitute for the harness: no peers, no answer checks; it is for
deciding between two builds of nereid, and for seeing where a request's time goes (the
server's user and system CPU from /proc, at the kernel's 10 ms tick, over many requests).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

from bench.generate import ensure
from bench.queries import QUERIES
from bench.systems.nereid import Nereid


def server_cpu(pid: int) -> tuple[float, float]:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def measure(binary: str, data: str, meta: dict, names: list[str], requests: int) -> dict:
    system = Nereid(binary)
    work = tempfile.mkdtemp(prefix="latency-ab-")
    system.start(work)
    try:
        system.load(data, meta)
        by_name = {q.name: q for q in QUERIES}
        out = {}
        for name in names:
            q = by_name[name]
            text = q.text_for("nereid")
            times = []
            client0, (user0, sys0) = time.process_time(), server_cpu(system.proc.pid)
            for i in range(requests):
                params = q.params_for("nereid", meta["params"], i)
                t0 = time.perf_counter()
                system.query(text, params, 120)
                times.append(time.perf_counter() - t0)
            user1, sys1 = server_cpu(system.proc.pid)
            out[name] = {
                "median_ms": statistics.median(times) * 1e3,
                "client_cpu_us": (time.process_time() - client0) / requests * 1e6,
                "server_user_us": (user1 - user0) / requests * 1e6,
                "server_sys_us": (sys1 - sys0) / requests * 1e6,
            }
        return out
    finally:
        system.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--persons", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bin", action="append", required=True, help="NAME=PATH, repeatable")
    ap.add_argument("--queries", default="point_lookup,two_hop_distinct,three_hop_distinct")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--passes", type=int, default=2)
    args = ap.parse_args()
    data = ensure(args.persons, args.seed, os.path.join(os.path.dirname(__file__), "..", "data"))
    meta = json.load(open(os.path.join(data, "meta.json")))
    names = [n for n in args.queries.split(",") if n]
    binaries = [b.split("=", 1) for b in args.bin]
    for p in range(args.passes):
        for label, path in binaries:
            for name, r in measure(path, data, meta, names, args.requests).items():
                print(f"pass {p + 1} {label:8s} {name:20s} median {r['median_ms']:.3f} ms  "
                      f"client cpu {r['client_cpu_us']:.0f} us  server user "
                      f"{r['server_user_us']:.0f} us sys {r['server_sys_us']:.0f} us", flush=True)


if __name__ == "__main__":
    main()
