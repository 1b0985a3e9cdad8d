"""The slow-query log (`--slow-query-ms`, text and `--log-format json`) and `GET /metrics`
scraped from the running binary. These tests start the server themselves: with JSON logs the
readiness line is inside a JSON object."""

import json
import re
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from conftest import BINARY

LISTENING = re.compile(r"listening on http://([0-9.]+:[0-9]+)")
LONG = "UNWIND range(1, 1000000000) AS x RETURN count(x)"


class Proc:
    def __init__(self, *args):
        self.log_path = Path(tempfile.mkstemp(prefix="nereid-", suffix=".log")[1])
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(BINARY), "serve", "--in-memory", "--http-addr", "127.0.0.1:0", *args],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = LISTENING.search(self.log())
            if match:
                self.url = f"http://{match.group(1)}"
                return
            assert self.proc.poll() is None, self.log()
            time.sleep(0.02)
        raise AssertionError(f"did not start:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")

    def query(self, text, parameters=None):
        fields = {"query": text}
        if parameters is not None:
            fields["parameters"] = json.dumps(parameters)
        req = urllib.request.Request(f"{self.url}/openCypher", data=urllib.parse.urlencode(fields).encode())
        try:
            with urllib.request.urlopen(req) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        self._log.close()


def slow_lines(text):
    return [l for l in text.splitlines() if "slow query" in l]


def test_slow_queries_are_logged_once_each_with_their_facts_in_text():
    p = Proc("--slow-query-ms", "100")
    try:
        assert p.query("RETURN 1") == 200
        assert p.query(f"USING QUERY:TIMEOUTMILLISECONDS 300 {LONG}", {"a": 1, "b": 2}) == 500
        time.sleep(0.2)
        lines = slow_lines(p.log())
        assert len(lines) == 1, p.log()
        line = lines[0]
        for fact in ["query_id=", "protocol=\"http\"", "parameters=2", "waited_ms=", "elapsed_ms=", "outcome=TimeLimitExceededException", "query=USING QUERY"]:
            assert fact in line, line
        # A failed query has no result, so no memory peak is reported for it.
        assert "memory_peak_bytes" not in line or "memory_peak_bytes=None" in line, line
    finally:
        p.stop()


def test_json_log_format_gives_one_object_per_line_and_slow_queries_as_fields():
    p = Proc("--log-format", "json", "--slow-query-ms", "1")
    try:
        assert p.query(f"USING QUERY:TIMEOUTMILLISECONDS 50 {LONG}") == 500
        assert p.query("UNWIND range(1, 3) AS x RETURN x") == 200
        time.sleep(0.2)
        records = [json.loads(l) for l in p.log().splitlines() if l.strip()]
        slow = [r for r in records if r.get("fields", {}).get("message") == "slow query"]
        timed = [r for r in slow if r["fields"]["outcome"] == "TimeLimitExceededException"]
        assert len(timed) == 1, records
        fields = timed[0]["fields"]
        # Each is truncated to whole ms, so the sum may be up to 2 ms under the 50 ms deadline.
        assert fields["elapsed_ms"] + fields["waited_ms"] >= 48
        assert fields["parameters"] == 0
        assert timed[0]["target"] == "nereid::slow_query"
        assert fields["protocol"] == "http"
        ok = [r for r in slow if r["fields"]["outcome"] == "ok"]
        # The three-row query is logged only if it took >= 1 ms; when it is, rows are right.
        assert all(r["fields"]["rows"] == 3 for r in ok)
        assert all(r["fields"]["memory_peak_bytes"] > 0 for r in ok)
    finally:
        p.stop()


def test_slow_query_log_can_be_turned_off_and_metrics_are_scraped():
    p = Proc("--slow-query-ms", "0")
    try:
        assert p.query(f"USING QUERY:TIMEOUTMILLISECONDS 50 {LONG}") == 500
        assert p.query("CREATE (:A)-[:R]->(:B)") == 200
        assert slow_lines(p.log()) == []
        with urllib.request.urlopen(f"{p.url}/metrics") as r:
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = r.read().decode()
        assert 'nereid_queries_total{protocol="http",outcome="ok"} 1' in text, text
        assert 'nereid_queries_total{protocol="http",outcome="TimeLimitExceededException"} 1' in text
        assert 'nereid_queries_total{protocol="bolt",outcome="ok"} 0' in text
        assert "nereid_query_timeouts_total 1" in text
        assert "nereid_graph_nodes 2" in text
        assert "nereid_graph_relationships 1" in text
        assert "nereid_slow_queries_total 0" in text
    finally:
        p.stop()


def test_slow_queries_report_their_memory_peak():
    p = Proc("--slow-query-ms", "1")
    try:
        # Sorting 200,000 rows holds them all at once: megabytes charged to the budget.
        assert p.query("UNWIND range(1, 200000) AS x WITH x ORDER BY -x RETURN count(x)") == 200
        time.sleep(0.2)
        lines = [l for l in slow_lines(p.log()) if "ORDER BY" in l]
        assert len(lines) == 1, p.log()
        peak = re.search(r"memory_peak_bytes=(\d+)", lines[0])
        assert peak and int(peak.group(1)) > 1_000_000, lines[0]
    finally:
        p.stop()


def test_queries_and_connections_are_counted_by_protocol():
    import neo4j

    p = Proc("--slow-query-ms", "0")
    scrape = lambda: urllib.request.urlopen(f"{p.url}/metrics").read().decode()
    try:
        host = p.url.removeprefix("http://")
        with neo4j.GraphDatabase.driver(f"bolt://{host}", auth=("u", "p")) as driver:
            with driver.session() as session:
                assert session.run("RETURN 1 AS one").single()["one"] == 1
                assert session.run("RETURN 2 AS two").single()["two"] == 2
                during = scrape()
        assert p.query("RETURN 3") == 200
        # The driver closed its connection; the server sees the close shortly after.
        deadline = time.monotonic() + 5
        while True:
            after = scrape()
            if metric(after, 'nereid_connections_open{protocol="bolt"}') == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert metric(during, 'nereid_connections_open{protocol="bolt"}') >= 1, during
        assert metric(during, 'nereid_connections_total{protocol="bolt"}') >= 1
        assert metric(after, 'nereid_connections_open{protocol="bolt"}') == 0, after
        # Every scrape and the query came over HTTP (urllib opens a connection per request).
        assert metric(after, 'nereid_connections_total{protocol="http"}') >= 3
        assert metric(after, 'nereid_queries_total{protocol="bolt",outcome="ok"}') == 2
        assert metric(after, 'nereid_queries_total{protocol="http",outcome="ok"}') == 1
        assert metric(after, 'nereid_query_duration_seconds_count{protocol="bolt"}') == 2
    finally:
        p.stop()


def metric(text, name):
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
    assert match, f"{name} missing:\n{text}"
    return float(match.group(1))


def test_metrics_follow_the_durable_path(start_server, tmp_path):
    s = start_server(data_dir=tmp_path / "db")
    scrape = lambda: urllib.request.urlopen(f"{s.url}/metrics").read().decode()
    before = scrape()
    c = s.client()
    for i in range(5):
        c.execute_open_cypher_query(openCypherQuery=f"CREATE (:M {{i: {i}, pad: '{'x' * 1000}'}})")
    after = scrape()
    # Five commits of over a kilobyte each, each acknowledged after an fsync.
    assert metric(after, "nereid_wal_bytes_total") - metric(before, "nereid_wal_bytes_total") > 5000
    assert metric(after, "nereid_wal_fsyncs_total") - metric(before, "nereid_wal_fsyncs_total") >= 5
    assert metric(after, "nereid_wal_fsync_seconds_total") > 0
    # No checkpoint is due yet; the series exist from the start.
    assert metric(after, "nereid_checkpoints_total") == 0
    assert "# TYPE nereid_last_checkpoint_duration_seconds gauge" in after
    # Counters never go back, whatever the order of scrapes.
    assert metric(scrape(), "nereid_wal_bytes_total") == metric(after, "nereid_wal_bytes_total")
