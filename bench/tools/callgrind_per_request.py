"""Instructions the nereid server executes per request, for one query of the suite (or
`RETURN 1`), counted by callgrind over many requests on one keep-alive connection.

    bench/.venv/bin/python -m bench.tools.callgrind_per_request --persons 10000 \
        --bin target/release/nereid --query two_hop_distinct --requests 300

The server runs under `valgrind --tool=callgrind --instr-atstart=no`: the load and 20
warm-up requests are not counted; `callgrind_control -i on` starts the count just before the
measured requests and `-i off` stops it after them. The output file (for
`callgrind_annotate`) is printed with the figure. Needs valgrind. Instruction counts are
deterministic where wall-clock times on this machine are not, so they compare two builds
(release builds carry line tables, so the annotations name functions and lines).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import tempfile

from bench.generate import ensure
from bench.queries import QUERIES
from bench.systems.nereid import Nereid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--persons", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--query", default="two_hop_distinct", help="a suite query, or return1")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--out", default=None, help="callgrind output file (default: a temp file)")
    args = ap.parse_args()
    data = ensure(args.persons, args.seed, os.path.join(os.path.dirname(__file__), "..", "data"))
    meta = json.load(open(os.path.join(data, "meta.json")))
    out = args.out or os.path.join(tempfile.mkdtemp(prefix="callgrind-"), "callgrind.out")
    if args.query == "return1":
        text, params = "RETURN 1 AS x", lambda i: {}
    else:
        q = {q.name: q for q in QUERIES}[args.query]
        text = q.text_for("nereid")
        params = lambda i: q.params_for("nereid", meta["params"], i)  # noqa: E731
    system = Nereid(args.bin, wrapper=["valgrind", "--tool=callgrind", "--instr-atstart=no",
                                       f"--callgrind-out-file={out}"])
    work = tempfile.mkdtemp(prefix="callgrind-work-")
    system.start(work)
    try:
        system.load(data, meta)
        for i in range(20):
            system.query(text, params(i), 600)
        pid = str(system.proc.pid)
        subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
        for i in range(args.requests):
            system.query(text, params(i), 600)
        subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
    finally:
        system.close()
    total = 0
    for path in glob.glob(out + "*"):
        for line in open(path):
            if line.startswith(("totals:", "summary:")):
                total = max(total, int(line.split()[1]))
    print(f"{args.query}: {total // args.requests} instructions per request "
          f"({args.requests} requests; {out})")


if __name__ == "__main__":
    main()
