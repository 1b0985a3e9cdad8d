"""Hostile queries against the running server with a small memory budget (issue 9).

Each answers, or fails with its coded error, in bounded time; the process stays up; and its
peak RSS stays under the documented bound (README, "Memory"): running queries x
(--query-memory-mb + PER_QUERY_OVERHEAD_MB) + FIXED_OVERHEAD_MB.
"""

import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

BUDGET_MB = 64
WORKERS = 4
# The documented overheads: per running query (its batches and working set, and the
# allocator's per-thread arenas), and for the process (code, runtime, the empty store).
PER_QUERY_OVERHEAD_MB = 32
FIXED_OVERHEAD_MB = 64
TIMEOUT_MS = 20_000

HOSTILE = [
    # (name, query, expected: "ok" or an error code)
    ("unbounded var-length path, LIMIT 1",
     "MATCH p = (a:K {i: 1})-[*]->(b) RETURN length(p) AS n LIMIT 1", "ok"),
    ("unbounded var-length path, counted",
     "USING QUERY:TIMEOUTMILLISECONDS 3000 MATCH p = (a:K {i: 1})-[*]->(b) RETURN count(p) AS n",
     "TimeLimitExceededException"),
    ("unbounded var-length paths returned",
     "MATCH p = (a:K {i: 1})-[*]->(b) RETURN p", "MemoryLimitExceededException"),
    ("string doubling via reduce",
     "RETURN size(reduce(s = 'x', i IN range(1, 40) | s + s)) AS n", "MemoryLimitExceededException"),
    ("list doubling via reduce",
     "RETURN size(reduce(l = [1], i IN range(1, 40) | l + l)) AS n", "MemoryLimitExceededException"),
    ("collect over a huge range",
     "UNWIND range(1, 100000000) AS x RETURN size(collect(x)) AS n", "MemoryLimitExceededException"),
    ("range list built at once",
     "RETURN size(range(1, 1000000000)) AS n", "MemoryLimitExceededException"),
    ("cartesian product returned",
     "MATCH (a:K), (b:K), (c:K), (d:K), (e:K), (f:K), (g:K) RETURN a, b, c, d, e, f, g",
     "MemoryLimitExceededException"),
    ("cartesian product counted",
     "MATCH (a:K), (b:K), (c:K), (d:K), (e:K), (f:K) RETURN count(*) AS n", "ok"),
    ("DISTINCT beyond the budget",
     "UNWIND range(1, 20000000) AS x WITH DISTINCT x RETURN count(x) AS n",
     "MemoryLimitExceededException"),
    ("sort beyond the budget",
     "UNWIND range(1, 20000000) AS x WITH x ORDER BY -x RETURN count(x) AS n",
     "MemoryLimitExceededException"),
    # Every stage recurses once per clause: 2,400 clauses run (64 MiB query-thread stacks),
    # more than MAX_PLAN_SIZE steps are refused before any stage recurses.
    ("2,400 CREATE clauses", " ".join(["CREATE ()"] * 2400) + " RETURN 1 AS n", "ok"),
    ("100,000 CREATE clauses", " ".join(["CREATE ()"] * 100000), "QueryTooLargeException"),
    # Its syntax tree would outgrow the budget (about 256 bytes a token): refused unparsed.
    ("a list literal of 1,000,000 items",
     "RETURN size([" + ",".join(["1"] * 1000000) + "]) AS n", "QueryTooLargeException"),
    ("grouping beyond the budget",
     "UNWIND range(1, 20000000) AS x RETURN x % 10000000 AS k, count(*) AS n",
     "MemoryLimitExceededException"),
]


def peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def outcome(client, query):
    try:
        client.execute_open_cypher_query(openCypherQuery=query)
        return "ok"
    except ClientError as e:
        return e.response["Error"]["Code"]


@pytest.fixture(scope="module")
def hostile_server(request):
    from conftest import Server

    s = Server("--query-memory-mb", str(BUDGET_MB), "--workers", str(WORKERS),
               "--query-timeout-ms", str(TIMEOUT_MS))
    request.addfinalizer(s.stop)
    client = s.client()
    # K12: the complete directed graph on 12 nodes (132 relationships, ~10^9 paths).
    client.execute_open_cypher_query(
        openCypherQuery="UNWIND range(1, 12) AS i CREATE (:K {i: i})")
    client.execute_open_cypher_query(
        openCypherQuery="MATCH (a:K), (b:K) WHERE a <> b CREATE (a)-[:E]->(b)")
    return s


@pytest.mark.parametrize("name,query,expected", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_each_hostile_query_answers_or_fails_with_its_code(hostile_server, name, query, expected):
    client = hostile_server.client()
    started = time.monotonic()
    got = outcome(client, query)
    elapsed = time.monotonic() - started
    assert got == expected, f"{name}: {got}"
    assert elapsed < TIMEOUT_MS / 1000 + 10, f"{name} took {elapsed:.1f} s"
    assert hostile_server.proc.poll() is None, "the server died"
    assert client.execute_open_cypher_query(openCypherQuery="RETURN 1 AS one")["results"] == [{"one": 1}]


def test_hostile_queries_at_once_keep_the_process_under_its_bound(hostile_server, figures):
    client = hostile_server.client()
    results = {}

    def run(name, query):
        results[name] = outcome(client, query)

    # Two rounds of every hostile query, WORKERS running at a time (the rest queue).
    threads = [threading.Thread(target=run, args=(f"{name} #{k}", query))
               for k in range(2) for name, query, _ in HOSTILE]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a query never answered"
    for k in range(2):
        for name, _, expected in HOSTILE:
            assert results[f"{name} #{k}"] == expected, (name, results[f"{name} #{k}"])
    assert hostile_server.proc.poll() is None, "the server died"
    peak = peak_rss_mb(hostile_server.proc.pid)
    bound = WORKERS * (BUDGET_MB + PER_QUERY_OVERHEAD_MB) + FIXED_OVERHEAD_MB
    figures("hostile queries: peak RSS (MB), bound (MB)", f"{peak:.0f}, {bound}")
    assert peak < bound, f"peak RSS {peak:.0f} MB over the documented bound {bound} MB"
