"""nereid under test, driven over its Neptune-compatible HTTP API exactly as a user would.

The worker starts ``nereid serve --http-addr 127.0.0.1:0 --data-dir TMP --dialect opencypher``
(the suite's shortestPath query is refused by the default ``neptune`` dialect; port 0: the server
picks a free port and logs ``listening on http://ADDR``, which is read back; no race with
another process grabbing a port we probed), then POSTs form-encoded ``query`` and
``parameters`` (a JSON string) to ``/openCypher`` over one keep-alive connection of libcurl
(``pycurl``; ``--nereid-client http.client`` uses the standard library's client instead). The
client's own cost matters at these latencies: a two-hop query answered by the server took
0.07 ms with a raw socket, 0.14 ms with libcurl, 0.20 ms with ``http.client`` (whose header
parsing is Python) and about 0.9 ms with ``requests`` (2026-12-04, load average 1.1). The peers
get their own fastest official path: Kuzu and LadybugDB run in the benchmark's process,
FalkorDB's official client talks RESP over a unix socket.

Load (``--nereid-load loader``, the default): the bulk loader, as a Neptune user loads data.
The generated CSV files are first rewritten in Neptune's openCypher CSV format (typed headers,
``:ID`` ``p<id>``/``c<id>``/…, a ``:LABEL`` column; untimed, reported as ``prep_s``) into a
folder the server may read (``--load-dir``); then ``POST /loader`` and ``GET /loader/{id}``
every 20 ms until the job is final. The load time runs from the POST to the final status, so
it includes the loader's durable commits (one per 200,000 records).

Load (``--nereid-load http``): batched ``UNWIND $rows AS r CREATE (:Label {...})`` per label,
then ``UNWIND $rows AS r MATCH (a:Person {id: r.from}), (b:X {id: r.to}) CREATE (a)-[:T]->(b)``
per relationship type. Each request is one auto-commit transaction (WAL + fsync).

Either way the data dir is a fresh temporary directory, so this measures the durable path.

Memory and CPU are the server process's own (VmHWM and utime+stime from /proc), read just
before it is stopped; the timings are client-side wall clock, so they include HTTP and JSON.
"""

from __future__ import annotations

import http.client
import io
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

    def __init__(self, binary: str, batch: int = 5000, timeout_s: float = 120.0,
                 load_method: str = "loader", client: str = "curl",
                 wrapper: list[str] | None = None):
        self.binary = binary
        # A command the server runs under (bench/tools/callgrind_per_request.py: valgrind).
        self.wrapper = wrapper or []
        self.client = client
        self.batch = batch
        self.load_method = load_method
        self.load_dir = None
        self.timeout_s = timeout_s
        self.proc = None
        self.url = None
        self.conn = None
        self.encoded = {}
        self.log_path = None

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return (out.stdout.strip() or out.stderr.strip() or "unknown").splitlines()[0]

    def start(self, workdir: str) -> None:
        data_dir = os.path.join(workdir, "nereid-data")
        self.log_path = os.path.join(workdir, "nereid.log")
        self.load_dir = os.path.join(workdir, "load")
        os.makedirs(self.load_dir, exist_ok=True)
        self.proc = subprocess.Popen(
            # The suite has a shortestPath query, which Neptune (and so nereid's default
            # `neptune` dialect) refuses: the harness runs the full openCypher language.
            [*self.wrapper, self.binary, "serve", "--http-addr", "127.0.0.1:0",
             "--data-dir", data_dir,
             "--query-timeout-ms", str(int(self.timeout_s * 1000)), "--dialect", "opencypher",
             "--load-dir", self.load_dir],
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
        if not found.wait(300 if self.wrapper else 30) or self.url is None:
            self.close()
            raise RuntimeError(f"nereid did not start; see {self.log_path}")

    def _request(self, method: str, path: str, body: str | None, timeout_s: float | None):
        if self.conn is None:
            self.conn = TRANSPORTS[self.client](self.url)
        try:
            return self.conn.request(method, path, body, timeout_s)
        except TimeoutError as e:
            self._drop_connection()
            raise QueryFailed("timeout", f"client timeout after {timeout_s}s") from e
        except ConnectionError:
            # The server closed the keep-alive connection: retry once on a new one.
            self._drop_connection()
            self.conn = TRANSPORTS[self.client](self.url)
            return self.conn.request(method, path, body, timeout_s)

    def _post(self, text: str, params: dict, timeout_s: float | None):
        # The encoded query text is kept, as an application keeps its prepared statements:
        # `urlencode` costs about 18 us per call here, a tenth of a two-hop round trip.
        body = self.encoded.get(text)
        if body is None:
            body = self.encoded[text] = urllib.parse.urlencode({"query": text})
        if params:
            body += "&parameters=" + urllib.parse.quote_plus(json.dumps(params))
        status, raw = self._request("POST", "/openCypher", body, timeout_s)
        if status != 200:
            try:
                body = json.loads(raw)
                code = body.get("code", "?")
                msg = body.get("detailedMessage") or body.get("message") or raw.decode()
            except ValueError:
                code, msg = "?", raw.decode(errors="replace")
            kind = ("unsupported" if code in UNSUPPORTED_CODES
                    else "timeout" if code in TIMEOUT_CODES else "error")
            raise QueryFailed(kind, f"HTTP {status} {code}: {msg}"[:500])
        return json.loads(raw)["results"]

    def _drop_connection(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def load(self, data_dir: str, meta: dict) -> dict:
        if self.load_method == "loader":
            return self._bulk_load(data_dir)
        return self._http_load(data_dir)

    def _bulk_load(self, data_dir: str) -> dict:
        t0 = time.perf_counter()
        write_opencypher_csv(data_dir, self.load_dir)
        prep_s = round(time.perf_counter() - t0, 3)
        t_all = time.perf_counter()
        body = urllib.parse.urlencode({"source": self.load_dir, "format": "opencypher",
                                       "userProvidedEdgeIds": "FALSE", "failOnError": "TRUE"})
        status, raw = self._request("POST", "/loader", body, 60)
        if status != 200:
            raise RuntimeError(f"POST /loader: HTTP {status} {raw[:500]!r}")
        load_id = json.loads(raw)["payload"]["loadId"]
        while True:
            _, raw = self._request("GET", f"/loader/{load_id}", None, 60)
            overall = json.loads(raw)["payload"]["overallStatus"]
            if overall["status"] not in ("LOAD_NOT_STARTED", "LOAD_IN_PROGRESS", "LOAD_IN_QUEUE"):
                break
            time.sleep(0.02)
        total_s = round(time.perf_counter() - t_all, 3)
        if overall["status"] != "LOAD_COMPLETED":
            raise RuntimeError(f"load {load_id} ended {overall}")
        return {
            "method": "POST /loader over openCypher CSV files (bulk loader, durable data dir); "
                      f"CSV rewritten into Neptune's format first in {prep_s}s (untimed)",
            "total_s": total_s,
            "prep_s": prep_s,
            "steps": {"records": overall["totalRecords"],
                      "records_per_s": round(overall["totalRecords"] / max(total_s, 1e-9))},
        }

    def _http_load(self, data_dir: str) -> dict:
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


class CurlTransport:
    """One keep-alive HTTP/1.1 connection through libcurl (``pycurl``), the default client.

    The harness measures the database, so it uses the leanest widely used HTTP client there
    is: ``http.client`` spends about 0.13 ms of Python per call on this machine (its header
    parsing), more than nereid needs to answer a two-hop query; libcurl about 0.04 ms.
    """

    def __init__(self, url: str):
        import pycurl

        self.pycurl = pycurl
        self.url = url
        self.curl = pycurl.Curl()
        self.curl.setopt(pycurl.TCP_NODELAY, 1)
        # No `Expect: 100-continue` round trip for larger bodies.
        self.form = ["Content-Type: application/x-www-form-urlencoded", "Expect:"]

    def request(self, method: str, path: str, body: str | None, timeout_s: float | None):
        pycurl, c = self.pycurl, self.curl
        out = io.BytesIO()
        c.setopt(pycurl.URL, self.url + path)
        c.setopt(pycurl.WRITEDATA, out)
        c.setopt(pycurl.TIMEOUT_MS, int((timeout_s or 0) * 1000))
        if method == "POST":
            c.setopt(pycurl.HTTPHEADER, self.form)
            c.setopt(pycurl.POSTFIELDS, body or "")
        else:
            c.setopt(pycurl.HTTPHEADER, [])
            c.setopt(pycurl.HTTPGET, 1)
        try:
            c.perform()
        except pycurl.error as e:
            if e.args[0] == pycurl.E_OPERATION_TIMEDOUT:
                raise TimeoutError(str(e)) from e
            raise ConnectionError(str(e)) from e
        return c.getinfo(pycurl.RESPONSE_CODE), out.getvalue()

    def close(self) -> None:
        self.curl.close()


class StdlibTransport:
    """One keep-alive connection of the standard library's ``http.client``
    (``--nereid-client http.client``)."""

    def __init__(self, url: str):
        host, port = urllib.parse.urlsplit(url).netloc.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port))
        self.conn.connect()
        # Small requests must not wait for delayed ACKs.
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, method: str, path: str, body: str | None, timeout_s: float | None):
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        self.conn.sock.settimeout(timeout_s)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            return resp.status, resp.read()
        except socket.timeout as e:
            raise TimeoutError(str(e)) from e
        except (http.client.HTTPException, OSError) as e:
            raise ConnectionError(str(e)) from e

    def close(self) -> None:
        self.conn.close()


TRANSPORTS = {"curl": CurlTransport, "http.client": StdlibTransport}


# Neptune's openCypher CSV headers for the generated files: the typed property columns, a
# string `:ID` (prefixed per label so that ids are unique across node files, as Neptune
# requires) and the label or type.
ID_PREFIX = {"Person": "p", "City": "c", "Company": "o", "Post": "t"}
NODE_PROPS = {
    "Person": "id:Int,name:String,age:Int,email:String",
    "City": "id:Int,name:String",
    "Company": "id:Int,name:String",
    "Post": "id:Int,title:String,length:Int",
}


def write_opencypher_csv(data_dir: str, out_dir: str) -> None:
    """Rewrites the generated CSV files (plain headers, no quoting needed) as openCypher CSV."""
    for label in NODE_LABELS:
        prefix = ID_PREFIX[label]
        with open(os.path.join(data_dir, f"{label}.csv"), encoding="utf-8") as src, \
                open(os.path.join(out_dir, f"{label}.csv"), "w", encoding="utf-8") as out:
            src.readline()
            out.write(f":ID,{NODE_PROPS[label]},:LABEL\n")
            for line in src:
                line = line.rstrip("\n")
                out.write(f"{prefix}{line[:line.index(',')]},{line},{label}\n")
    for rel, (a, b) in REL_TYPES.items():
        pa, pb = ID_PREFIX[a], ID_PREFIX[b]
        with open(os.path.join(data_dir, f"{rel}.csv"), encoding="utf-8") as src, \
                open(os.path.join(out_dir, f"{rel}.csv"), "w", encoding="utf-8") as out:
            src.readline()
            out.write(":START_ID,:END_ID,:TYPE" + (",since:Int" if rel == "KNOWS" else "") + "\n")
            for line in src:
                f = line.rstrip("\n").split(",")
                extra = f",{f[2]}" if rel == "KNOWS" else ""
                out.write(f"{pa}{f[0]},{pb}{f[1]},{rel}{extra}\n")
