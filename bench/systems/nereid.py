"""nereid under test, driven over its Neptune-compatible HTTP API exactly as a user would.

The worker starts ``nereid serve --http-addr 127.0.0.1:0 --data-dir TMP --dialect opencypher``
(the suite's shortestPath query is refused by the default ``neptune`` dialect; port 0: the server
picks a free port and logs ``listening on http://ADDR``, which is read back; no race with
another process grabbing a port we probed), then POSTs form-encoded ``query`` and
``parameters`` (a JSON string) to ``/openCypher`` over one keep-alive connection of the
standard library's ``http.client``. (``requests`` costs about 0.7 ms of client CPU per call on
this machine, more than nereid spends on a point lookup; measured with ``GET
/openCypher/status``: 0.75 ms with ``requests``, 0.16 ms with ``http.client``.)

Load: batched ``UNWIND $rows AS r CREATE (:Label {...})`` per label, then
``UNWIND $rows AS r MATCH (a:Person {id: r.from}), (b:X {id: r.to}) CREATE (a)-[:T]->(b)``
per relationship type. Each request is one auto-commit transaction (WAL + fsync); the data
dir is a fresh temporary directory, so this measures the durable path.

Memory and CPU are the server process's own (VmHWM and utime+stime from /proc), read just
before it is stopped; the timings are client-side wall clock, so they include HTTP and JSON.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse

from ..generate import NODE_LABELS, REL_TYPES, read_csv
from .base import QueryFailed, System, proc_resources

NODE_CREATE = {
    "Person": "CREATE (:Person {id: r.id, name: r.name, age: r.age, email: r.email})",
    "City": "CREATE (:City {id: r.id, name: r.name})",
    "Company": "CREATE (:Company {id: r.id, name: r.name})",
    "Post": "CREATE (:Post {id: r.id, title: r.title, length: r.length})",
}
NODE_FIELDS = {
    "Person": ("id", "name", "age", "email"),
    "City": ("id", "name"),
    "Company": ("id", "name"),
    "Post": ("id", "title", "length"),
}
REL_PROPS = {"KNOWS": " {since: r.since}"}

# Error codes that mean "nereid does not (yet) accept this query", as opposed to a failure.
UNSUPPORTED_CODES = {
    "MalformedQueryException",
    "UnsupportedOperationException",
    "InvalidParameterException",
    "BadRequestException",
}
TIMEOUT_CODES = {"TimeLimitExceededException", "CancelledByUserException"}


class Nereid(System):
    name = "nereid"

    def __init__(self, binary: str, batch: int = 5000, timeout_s: float = 120.0):
        self.binary = binary
        self.batch = batch
        self.timeout_s = timeout_s
        self.proc = None
        self.url = None
        self.conn = None
        self.log_path = None

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return (out.stdout.strip() or out.stderr.strip() or "unknown").splitlines()[0]

    def start(self, workdir: str) -> None:
        data_dir = os.path.join(workdir, "nereid-data")
        self.log_path = os.path.join(workdir, "nereid.log")
        self.proc = subprocess.Popen(
            # The suite has a shortestPath query, which Neptune (and so nereid's default
            # `neptune` dialect) refuses: the harness runs the full openCypher language.
            [self.binary, "serve", "--http-addr", "127.0.0.1:0", "--data-dir", data_dir,
             "--query-timeout-ms", str(int(self.timeout_s * 1000)), "--dialect", "opencypher"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn,nereid=info")},
        )
        log = open(self.log_path, "w")
        found = threading.Event()

        def drain():
            # Copy the server's stderr to the log file, noting the address line once.
            for line in self.proc.stderr:
                log.write(line)
                log.flush()
                if self.url is None:
                    m = re.search(r"listening on (http://\S+)", line)
                    if m:
                        self.url = m.group(1).rstrip("/")
                        found.set()
            found.set()

        threading.Thread(target=drain, daemon=True).start()
        if not found.wait(30) or self.url is None:
            self.close()
            raise RuntimeError(f"nereid did not start; see {self.log_path}")

    def _connection(self, timeout_s: float | None) -> http.client.HTTPConnection:
        if self.conn is None:
            host, port = urllib.parse.urlsplit(self.url).netloc.rsplit(":", 1)
            self.conn = http.client.HTTPConnection(host, int(port))
            self.conn.connect()
            # Small requests must not wait for delayed ACKs.
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn.sock.settimeout(timeout_s)
        return self.conn

    def _post(self, text: str, params: dict, timeout_s: float | None):
        data = {"query": text}
        if params:
            data["parameters"] = json.dumps(params)
        body = urllib.parse.urlencode(data)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            conn = self._connection(timeout_s)
            conn.request("POST", "/openCypher", body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (TimeoutError, socket.timeout) as e:
            self._drop_connection()
            raise QueryFailed("timeout", f"client timeout after {timeout_s}s") from e
        except (http.client.HTTPException, OSError):
            # The server closed the keep-alive connection: retry once on a new one.
            self._drop_connection()
            conn = self._connection(timeout_s)
            conn.request("POST", "/openCypher", body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        if resp.status != 200:
            try:
                body = json.loads(raw)
                code = body.get("code", "?")
                msg = body.get("detailedMessage") or body.get("message") or raw.decode()
            except ValueError:
                code, msg = "?", raw.decode(errors="replace")
            kind = ("unsupported" if code in UNSUPPORTED_CODES
                    else "timeout" if code in TIMEOUT_CODES else "error")
            raise QueryFailed(kind, f"HTTP {resp.status} {code}: {msg}"[:500])
        return json.loads(raw)["results"]

    def _drop_connection(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def load(self, data_dir: str, meta: dict) -> dict:
        tables = {name: read_csv(data_dir, name) for name in (*NODE_LABELS, *REL_TYPES)}
        steps = {}
        t_all = time.perf_counter()
        for label in NODE_LABELS:
            fields = NODE_FIELDS[label]
            rows = [dict(zip(fields, r)) for r in tables[label]]
            steps[label] = self._batched(f"UNWIND $rows AS r {NODE_CREATE[label]}", rows)
        for rel, (src, dst) in REL_TYPES.items():
            fields = ("from", "to", "since") if rel == "KNOWS" else ("from", "to")
            rows = [dict(zip(fields, r)) for r in tables[rel]]
            text = (f"UNWIND $rows AS r MATCH (a:{src} {{id: r.from}}), (b:{dst} {{id: r.to}}) "
                    f"CREATE (a)-[:{rel}{REL_PROPS.get(rel, '')}]->(b)")
            steps[rel] = self._batched(text, rows)
        return {
            "method": f"HTTP POST /openCypher, UNWIND batches of {self.batch} rows, "
                      "one auto-commit transaction per batch (durable data dir)",
            "total_s": round(time.perf_counter() - t_all, 3),
            "steps": steps,
        }

    def _batched(self, text: str, rows: list[dict]) -> float:
        t0 = time.perf_counter()
        for i in range(0, len(rows), self.batch):
            self._post(text, {"rows": rows[i:i + self.batch]}, self.timeout_s + 30)
        return round(time.perf_counter() - t0, 3)

    def query(self, text, params, timeout_s):
        # The server enforces the timeout (and cancels the query); the client waits longer.
        results = self._post(text, params, timeout_s + 30)
        if not results:
            return [], []
        cols = list(results[0].keys())
        return cols, [[row.get(c) for c in cols] for row in results]

    def resources(self) -> dict:
        return proc_resources(self.proc.pid, "nereid server")

    def close(self) -> None:
        self._drop_connection()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
