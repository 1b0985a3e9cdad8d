"""What every system under test provides to the worker, and small shared helpers.

A system is started once per worker process, loads the generated graph by its own fastest
route, answers queries as ``(columns, rows)`` with rows as lists of plain Python values, and
reports its peak memory and CPU time. Failures are classified so the report can say
"unsupported" (the system rejected the query: a syntax, semantic or not-implemented error),
"timeout", or "error" (anything else), instead of the run crashing.
"""

from __future__ import annotations

import os
import resource


class QueryFailed(Exception):
    """A query the system did not answer; `kind` is unsupported | timeout | error."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class System:
    """Interface of one system under test (see the module docstring)."""

    name = "?"

    def version(self) -> str:
        raise NotImplementedError

    def start(self, workdir: str) -> None:
        raise NotImplementedError

    def load(self, data_dir: str, meta: dict) -> dict:
        """Load the dataset; returns {"method": str, "total_s": float, "steps": {name: s}}."""
        raise NotImplementedError

    def query(self, text: str, params: dict, timeout_s: float) -> tuple[list[str], list[list]]:
        raise NotImplementedError

    def resources(self) -> dict:
        """{"peak_rss_mb", "cpu_s", "source"} for the process that holds the database."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def self_resources() -> dict:
    """Peak RSS (ru_maxrss) and CPU time of this Python process."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "peak_rss_mb": round(ru.ru_maxrss / 1024.0, 1),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "source": "worker process ru_maxrss / ru_utime+ru_stime (database runs in-process)",
    }


def proc_resources(pid: int, what: str) -> dict:
    """Peak RSS (VmHWM) and CPU time (utime+stime) of another live process, from /proc."""
    hwm_kb = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm_kb = int(line.split()[1])
    with open(f"/proc/{pid}/stat") as f:
        # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        rest = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(rest[11]) + int(rest[12])) / ticks
    return {
        "peak_rss_mb": round((hwm_kb or 0) / 1024.0, 1),
        "cpu_s": round(cpu, 3),
        "source": f"{what} process VmHWM and utime+stime from /proc/{pid}",
    }
