"""Kuzu and LadybugDB (its fork, PyPI `real_ladybug`) under test, embedded in the worker.

Both share one Python API (`Database`, `Connection.execute`), so one class serves both,
parameterised by the module name. The two cannot be imported into one process (their
extension modules register the same pybind11 types), which the one-worker-per-system design
avoids anyway.

Load: the documented fastest bulk path, ``COPY <table> FROM '<file>.csv' (HEADER=true)``
into node and relationship tables declared up front (``Person`` keyed by ``id``, and so on).
The database lives in a fresh on-disk directory (Kuzu's normal, durable mode).

Memory and CPU are the worker process's (ru_maxrss, ru_utime+ru_stime): the database runs
inside it, together with the Python interpreter (a few tens of MB).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import time

from ..generate import NODE_LABELS, REL_TYPES
from .base import QueryFailed, System, self_resources

SCHEMA = {
    "Person": "CREATE NODE TABLE Person(id INT64, name STRING, age INT64, email STRING, "
              "PRIMARY KEY(id))",
    "City": "CREATE NODE TABLE City(id INT64, name STRING, PRIMARY KEY(id))",
    "Company": "CREATE NODE TABLE Company(id INT64, name STRING, PRIMARY KEY(id))",
    "Post": "CREATE NODE TABLE Post(id INT64, title STRING, length INT64, PRIMARY KEY(id))",
    "KNOWS": "CREATE REL TABLE KNOWS(FROM Person TO Person, since INT64)",
    "LIVES_IN": "CREATE REL TABLE LIVES_IN(FROM Person TO City)",
    "WORKS_AT": "CREATE REL TABLE WORKS_AT(FROM Person TO Company)",
    "LIKES": "CREATE REL TABLE LIKES(FROM Person TO Post)",
}

UNSUPPORTED_MARKERS = ("Parser exception", "Binder exception", "not supported",
                       "Catalog exception", "Not implemented")


class KuzuFamily(System):
    def __init__(self, name: str, module: str, dist: str):
        self.name = name
        self.module_name = module
        self.dist = dist
        self.mod = importlib.import_module(module)
        self.db = None
        self.conn = None

    def version(self) -> str:
        return f"{self.dist}=={importlib.metadata.version(self.dist)}"

    def start(self, workdir: str) -> None:
        self.db = self.mod.Database(os.path.join(workdir, f"{self.name}-db"))
        self.conn = self.mod.Connection(self.db)

    def load(self, data_dir: str, meta: dict) -> dict:
        steps = {}
        t_all = time.perf_counter()
        t0 = time.perf_counter()
        for name in (*NODE_LABELS, *REL_TYPES):
            self.conn.execute(SCHEMA[name])
        steps["schema"] = round(time.perf_counter() - t0, 3)
        for name in (*NODE_LABELS, *REL_TYPES):
            path = os.path.abspath(os.path.join(data_dir, f"{name}.csv"))
            t0 = time.perf_counter()
            self.conn.execute(f"COPY {name} FROM '{path}' (HEADER=true)")
            steps[name] = round(time.perf_counter() - t0, 3)
        return {
            "method": "CREATE NODE/REL TABLE, then COPY FROM CSV per table (on-disk database)",
            "total_s": round(time.perf_counter() - t_all, 3),
            "steps": steps,
        }

    def query(self, text, params, timeout_s):
        self.conn.set_query_timeout(int(timeout_s * 1000))
        try:
            result = self.conn.execute(text, params)
            cols = result.get_column_names()
            rows = result.get_all()
        except RuntimeError as e:
            msg = str(e)
            kind = ("timeout" if "interrupted" in msg.lower() or "timeout" in msg.lower()
                    else "unsupported" if any(m in msg for m in UNSUPPORTED_MARKERS)
                    else "error")
            raise QueryFailed(kind, msg[:500]) from e
        return cols, [list(r) for r in rows]

    def resources(self) -> dict:
        return self_resources()
