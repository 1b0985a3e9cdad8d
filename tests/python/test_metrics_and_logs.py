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
        for fact in ["query_id=", "parameters=2", "waited_ms=", "elapsed_ms=", "outcome=TimeLimitExceededException", "query=USING QUERY"]:
            assert fact in line, line
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
        ok = [r for r in slow if r["fields"]["outcome"] == "ok"]
        # The three-row query is logged only if it took >= 1 ms; when it is, rows are right.
        assert all(r["fields"]["rows"] == 3 for r in ok)
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
        assert 'nereid_queries_total{outcome="ok"} 1' in text, text
        assert 'nereid_queries_total{outcome="TimeLimitExceededException"} 1' in text
        assert "nereid_query_timeouts_total 1" in text
        assert "nereid_graph_nodes 2" in text
        assert "nereid_graph_relationships 1" in text
        assert "nereid_slow_queries_total 0" in text
    finally:
        p.stop()


def metric(text, name):
    match = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.M)
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
