"""Bolt with the real neo4j Python driver (5.x) against the built binary: Bolt is served on
the HTTP port (the first bytes of a connection pick the protocol).

Covered: auto-commit queries over bolt:// and neo4j:// (routing), parameters and results of
the common types, temporals both ways, nodes/relationships/paths with element_id = the
Neptune ~id, batched and streamed PULL, Neo4j error codes with the HTTP message, read sessions
refusing writes, --read-only, explicit transactions (commit and rollback seen over HTTP,
bookmarks, a managed write that conflicts with an open transaction and is retried, the
transaction timeout, a dropped connection, a statement listed and cancelled through
/openCypher/status), cancel through /openCypher/status, a dropped connection cancelling its
query, a separate --bolt-addr listener, Bolt over TLS, --auth iam with a SigV4 token, and the
neo4j 6.x driver (installed in a venv of its own by the test; skipped when it cannot be
installed).

`NEREID_BOLT_BASIC=1` runs only the basic tests (scripts/test runs them a second time with the
other major version of the driver, see BASIC below).
"""

import datetime as dt
import json
import os
import re
import shutil
import ssl
import subprocess
import socket
import struct
import sys
import tempfile
import threading
import time
import urllib.request
import warnings
from pathlib import Path

import neo4j
import pytest
import pytz
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from neo4j import GraphDatabase
from neo4j.exceptions import ClientError, CypherSyntaxError, TransientError

from conftest import Server
from helpers import LONG, find_query


# What NEREID_BOLT_BASIC=1 runs: the tests a second driver version must pass too.
BASIC = {
    "test_auto_commit_query_with_parameters_of_common_types",
    "test_writes_are_committed_and_visible_over_http",
    "test_graph_values_carry_the_neptune_id_as_element_id",
    "test_temporals_round_trip",
    "test_results_arrive_in_batches",
    "test_syntax_error_has_the_neo4j_code_and_the_http_message",
    "test_read_session_refuses_a_write",
    "test_explicit_commit_makes_every_statement_visible_at_once",
    "test_explicit_rollback_and_a_failed_statement_leave_nothing",
    "test_managed_transactions_read_and_write",
    "test_a_read_transaction_refuses_writes_without_retrying",
    "test_results_of_one_transaction_interleave",
    "test_a_managed_write_behind_an_open_transaction_is_retried",
    "test_a_large_result_streams_in_fetch_size_batches",
    "test_negotiated_version",
    "test_an_auto_commit_write_returns_a_bookmark_a_later_session_accepts",
    "test_results_held_for_a_transaction_are_bounded_by_the_memory_budget",
}


@pytest.fixture(autouse=True)
def _basic_only(request):
    if os.environ.get("NEREID_BOLT_BASIC") and request.node.originalname not in BASIC:
        pytest.skip("NEREID_BOLT_BASIC=1: the basic Bolt tests only")


def driver(server, scheme="bolt", auth=("user", "pass"), addr=None):
    return GraphDatabase.driver(f"{scheme}://{addr or server.addr}", auth=auth)


@pytest.fixture(scope="module", params=["bolt", "neo4j"])
def drv(request, server):
    d = driver(server, request.param)
    yield d
    d.close()


def http(client, text, **parameters):
    args = {"openCypherQuery": text}
    if parameters:
        args["parameters"] = json.dumps(parameters)
    return client.execute_open_cypher_query(**args)["results"]


def test_auto_commit_query_with_parameters_of_common_types(drv):
    params = {
        "i": -42,
        "f": 2.5,
        "s": "héllo",
        "b": True,
        "n": None,
        "l": [1, "two", [3.0]],
        "m": {"k": {"nested": [True]}},
    }
    with drv.session() as s:
        rec = s.run(
            "RETURN $i AS i, $f AS f, $s AS s, $b AS b, $n AS n, $l AS l, $m AS m", **params
        ).single()
    assert dict(rec) == params


def test_writes_are_committed_and_visible_over_http(drv, client):
    tag = f"w{time.monotonic_ns()}"
    with drv.session() as s:
        summary = s.run("CREATE (:BoltW {tag: $t})", t=tag).consume()
        assert summary.query_type == "rw"
    assert http(client, "MATCH (n:BoltW {tag: $t}) RETURN count(n) AS c", t=tag) == [{"c": 1}]


def test_graph_values_carry_the_neptune_id_as_element_id(drv, client):
    tag = f"g{time.monotonic_ns()}"
    with drv.session() as s:
        rec = s.run(
            "CREATE p = (a:BoltG {tag: $t, name: 'a'})-[r:KNOWS {since: 2020}]->(b:BoltG {tag: $t}) "
            "RETURN a, r, b, p",
            t=tag,
        ).single()
    a, r, b, p = rec["a"], rec["r"], rec["b"], rec["p"]
    rows = http(
        client,
        "MATCH (a:BoltG {tag: $t, name: 'a'})-[r]->(b) RETURN id(a) AS a, id(r) AS r, id(b) AS b",
        t=tag,
    )
    assert rows == [{"a": a.element_id, "r": r.element_id, "b": b.element_id}]
    assert a.labels == {"BoltG"} and a["name"] == "a"
    assert r.type == "KNOWS" and r["since"] == 2020
    assert r.start_node.element_id == a.element_id and r.end_node.element_id == b.element_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert isinstance(a.id, int) and a.id != b.id
    assert [n.element_id for n in p.nodes] == [a.element_id, b.element_id]
    assert [x.element_id for x in p.relationships] == [r.element_id]
    # A path read against the relationship's direction keeps the relationship's own ends.
    with drv.session() as s:
        back = s.run("MATCH p = (b:BoltG {tag: $t})<-[:KNOWS]-(a) WHERE b.name IS NULL RETURN p",
                     t=tag).single()["p"]
    assert back.start_node.element_id == b.element_id
    assert back.relationships[0].start_node.element_id == a.element_id


def test_temporals_round_trip(drv):
    values = {
        "d": neo4j.time.Date(2024, 2, 29),
        "lt": neo4j.time.Time(13, 14, 15, 123456789),
        "t": neo4j.time.Time(1, 2, 3, 0, tzinfo=pytz.FixedOffset(-300)),
        "ldt": neo4j.time.DateTime(1999, 12, 31, 23, 59, 59, 5),
        "dtz": neo4j.time.DateTime(2021, 5, 6, 7, 8, 9, 10, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "du": neo4j.time.Duration(months=14, days=3, seconds=7, nanoseconds=9),
    }
    with drv.session() as s:
        rec = s.run(
            "RETURN $d AS d, $lt AS lt, $t AS t, $ldt AS ldt, $dtz AS dtz, $du AS du", **values
        ).single()
        assert dict(rec) == values
        made = s.run(
            "RETURN date('2020-01-02') AS d, "
            "datetime('2020-01-02T03:04:05.5+02:00') AS dt, "
            "datetime({year: 2020, month: 7, day: 1, hour: 12, timezone: 'Europe/Paris'}) AS named, "
            "toString(datetime('2020-01-02T03:04:05.5+02:00')) AS text"
        ).single()
    assert made["d"] == neo4j.time.Date(2020, 1, 2)
    assert made["dt"].utcoffset() == dt.timedelta(hours=2)
    assert made["dt"].to_native() == dt.datetime(
        2020, 1, 2, 1, 4, 5, 500000, tzinfo=dt.timezone.utc
    )
    assert made["named"].tzinfo.zone == "Europe/Paris"
    assert (made["named"].hour, made["named"].utcoffset()) == (12, dt.timedelta(hours=2))
    assert made["text"] == "2020-01-02T03:04:05.500+02:00"


def test_results_arrive_in_batches(server):
    d = GraphDatabase.driver(f"bolt://{server.addr}", auth=("u", "p"))
    try:
        with d.session(fetch_size=3) as s:
            got = [r["x"] for r in s.run("UNWIND range(1, 10) AS x RETURN x")]
        assert got == list(range(1, 11))
    finally:
        d.close()


def test_syntax_error_has_the_neo4j_code_and_the_http_message(drv, client):
    with drv.session() as s:
        with pytest.raises(CypherSyntaxError) as caught:
            s.run("RETURN (").consume()
        assert caught.value.code == "Neo.ClientError.Statement.SyntaxError"
        # The session is usable again after the failure (the driver sends RESET).
        assert s.run("RETURN 1 AS x").single()["x"] == 1
    with pytest.raises(Exception) as over_http:
        http(client, "RETURN (")
    assert caught.value.message in str(over_http.value)


def test_missing_parameter_fails_with_a_client_error(drv):
    with drv.session() as s:
        with pytest.raises(ClientError) as caught:
            s.run("RETURN $nope AS x").consume()
    assert caught.value.code.startswith("Neo.ClientError.")
    assert "nope" in caught.value.message


def test_read_session_refuses_a_write(drv, client):
    tag = f"r{time.monotonic_ns()}"
    with drv.session(default_access_mode=neo4j.READ_ACCESS) as s:
        assert s.run("RETURN 1 AS x").single()["x"] == 1
        with pytest.raises(ClientError) as caught:
            s.run("CREATE (:BoltR {tag: $t})", t=tag).consume()
    assert caught.value.code == "Neo.ClientError.Statement.AccessMode"
    assert http(client, "MATCH (n:BoltR {tag: $t}) RETURN count(n) AS c", t=tag) == [{"c": 0}]


def count_over_http(client, label, tag):
    return http(client, f"MATCH (n:{label} {{tag: $t}}) RETURN count(n) AS c", t=tag)[0]["c"]


def test_explicit_commit_makes_every_statement_visible_at_once(drv, client):
    tag = f"c{time.monotonic_ns()}"
    with drv.session() as s:
        tx = s.begin_transaction()
        a = tx.run("CREATE (a:TxC {tag: $t, n: 1}) RETURN a", t=tag).single()["a"]
        tx.run("MATCH (a:TxC {tag: $t}) CREATE (a)-[:NEXT]->(:TxC {tag: $t, n: 2})", t=tag).consume()
        # The transaction sees its own writes; nobody else does yet.
        assert tx.run("MATCH (n:TxC {tag: $t}) RETURN count(n) AS c", t=tag).single()["c"] == 2
        assert count_over_http(client, "TxC", tag) == 0
        tx.commit()
        assert count_over_http(client, "TxC", tag) == 2
        ids = http(client, "MATCH (n:TxC {tag: $t, n: 1}) RETURN id(n) AS i", t=tag)
        assert ids == [{"i": a.element_id}]
        bookmarks = s.last_bookmarks()
    assert list(bookmarks.raw_values)[0].startswith("nereid:")
    # A session that starts from those bookmarks reads what they name.
    with drv.session(bookmarks=bookmarks) as s:
        assert s.run("MATCH (n:TxC {tag: $t}) RETURN count(n) AS c", t=tag).single()["c"] == 2


def test_explicit_rollback_and_a_failed_statement_leave_nothing(drv, client):
    tag = f"rb{time.monotonic_ns()}"
    with drv.session() as s:
        with s.begin_transaction() as tx:
            tx.run("CREATE (:TxR {tag: $t})", t=tag).consume()
            tx.rollback()
        assert count_over_http(client, "TxR", tag) == 0
        with pytest.raises(ClientError):
            with s.begin_transaction() as tx:
                tx.run("CREATE (:TxR {tag: $t})", t=tag).consume()
                tx.run("UNWIND [1, 0] AS x RETURN 1 / x").consume()
                tx.commit()
        # Closing an unfinished transaction rolls back too.
        tx = s.begin_transaction()
        tx.run("CREATE (:TxR {tag: $t})", t=tag).consume()
        tx.close()
        assert count_over_http(client, "TxR", tag) == 0
        # The session is still good for auto-commit work.
        assert s.run("RETURN 2 AS x").single()["x"] == 2


def test_managed_transactions_read_and_write(drv, client):
    tag = f"m{time.monotonic_ns()}"
    with drv.session() as s:
        made = s.execute_write(
            lambda tx: tx.run("CREATE (n:TxM {tag: $t}) RETURN n.tag AS t", t=tag).single()["t"])
        assert made == tag
        got = s.execute_read(
            lambda tx: tx.run("MATCH (n:TxM {tag: $t}) RETURN count(n) AS c", t=tag).single()["c"])
        assert got == 1
    assert count_over_http(client, "TxM", tag) == 1


def test_a_read_transaction_refuses_writes_without_retrying(drv, client):
    tag = f"rt{time.monotonic_ns()}"
    started = time.monotonic()
    with drv.session() as s:
        with pytest.raises(ClientError) as caught:
            s.execute_read(lambda tx: tx.run("CREATE (:TxRead {tag: $t})", t=tag).consume())
    assert caught.value.code == "Neo.ClientError.Statement.AccessMode"
    assert time.monotonic() - started < 5
    with drv.session(default_access_mode=neo4j.READ_ACCESS) as s:
        tx = s.begin_transaction()
        assert tx.run("RETURN 1 AS x").single()["x"] == 1
        with pytest.raises(ClientError) as caught:
            tx.run("CREATE (:TxRead {tag: $t})", t=tag).consume()
        tx.close()
    assert caught.value.code == "Neo.ClientError.Statement.AccessMode"
    assert count_over_http(client, "TxRead", tag) == 0


def test_results_of_one_transaction_interleave(drv):
    with drv.session(fetch_size=100) as s:
        with s.begin_transaction() as tx:
            big = tx.run("UNWIND range(1, 5000) AS x RETURN x")
            head = [next(iter(big))["x"] for _ in range(1)]
            # A second statement while the first result is still open.
            assert tx.run("RETURN 41 + 1 AS y").single()["y"] == 42
            rest = [r["x"] for r in big]
            tx.commit()
    assert head + rest == list(range(1, 5001))


def test_an_auto_commit_write_returns_a_bookmark_a_later_session_accepts(server, client):
    tag = f"bm{time.monotonic_ns()}"
    d = driver(server)
    try:
        with d.session() as s:
            assert s.last_bookmarks().raw_values == frozenset()
            s.run("RETURN 1").consume()
            s.run("CREATE (:BoltBm {tag: $t})", t=tag).consume()
            written = s.last_bookmarks()
        (value,) = written.raw_values
        assert re.fullmatch(r"nereid:\d+", value), value
        # The bookmark names the version the write committed as: a later one is newer.
        with d.session() as s:
            s.run("CREATE (:BoltBm {tag: $t})", t=tag).consume()
            (later,) = s.last_bookmarks().raw_values
        assert int(later.split(":")[1]) > int(value.split(":")[1])
        # A session started from the bookmark reads the write (the server accepts it).
        with d.session(bookmarks=written) as s:
            assert s.run("MATCH (n:BoltBm {tag: $t}) RETURN count(n) AS c", t=tag).single()["c"] == 2
        # execute_query's bookmark manager carries it between calls too.
        d.execute_query("CREATE (:BoltBm {tag: $t})", t=tag)
        records, _, _ = d.execute_query("MATCH (n:BoltBm {tag: $t}) RETURN count(n) AS c", t=tag)
        assert records[0]["c"] == 3
    finally:
        d.close()
    assert count_over_http(client, "BoltBm", tag) == 3


def test_results_held_for_a_transaction_are_bounded_by_the_memory_budget(start_server):
    s = start_server("--query-memory-mb", "16")
    client = s.client()
    d = driver(s)
    pad = "p" * 200
    try:
        with d.session(fetch_size=100) as session:
            tx = session.begin_transaction()
            # ~50 MB of rows in all, streamed a few batches ahead of the client: fits.
            big = tx.run("UNWIND range(1, 200000) AS x RETURN x, $pad AS pad", pad=pad)
            assert next(iter(big))["x"] == 1
            # The next statement needs the rest of the first result kept for the client:
            # beyond the budget, it fails with the memory error and the transaction with it.
            with pytest.raises(TransientError) as caught:
                tx.run("CREATE (:BoltMem) RETURN 1 AS y").single()
            assert caught.value.code == "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
            assert caught.value.message.startswith("Query exceeded its memory limit of 16 MiB")
            tx.close()
            # The connection and the server carry on; a result that fits is kept whole.
            with session.begin_transaction() as tx:
                small = tx.run("UNWIND range(1, 5000) AS x RETURN x, $pad AS pad", pad=pad)
                assert next(iter(small))["x"] == 1
                assert tx.run("CREATE (:BoltMem) RETURN 1 AS y").single()["y"] == 1
                assert [r["x"] for r in small] == list(range(2, 5001))
                tx.commit()
            # The rows of an auto-commit write beyond the budget: refused before its commit.
            with pytest.raises(TransientError) as caught:
                session.run(
                    "UNWIND range(1, 100000) AS i CREATE (n:BoltMemHuge {pad: $pad}) RETURN n",
                    pad=pad,
                ).consume()
            assert caught.value.code == "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
            assert session.run("RETURN 2 AS z").single()["z"] == 2
    finally:
        d.close()
    assert http(client, "MATCH (n:BoltMem) RETURN count(n) AS c") == [{"c": 1}]
    assert http(client, "MATCH (n:BoltMemHuge) RETURN count(n) AS c") == [{"c": 0}]


def test_negotiated_version(server, figures):
    d = driver(server)
    try:
        d.verify_connectivity()
        version = tuple(d.get_server_info().protocol_version)
    finally:
        d.close()
    figures(f"neo4j Python driver {neo4j.__version__} negotiated Bolt", f"{version[0]}.{version[1]}")
    assert version == (5, 4)


def test_http_still_answers_on_the_same_port(server, client):
    assert http(client, "RETURN 7 AS x") == [{"x": 7}]


def test_cancel_through_the_status_api_terminates_the_bolt_query(server, client):
    d = driver(server)
    outcome = {}

    def run():
        try:
            with d.session() as s:
                s.run(LONG).consume()
            outcome["ok"] = True
        except Exception as e:  # noqa: BLE001 - the error is the result under test
            outcome["error"] = e

    t = threading.Thread(target=run)
    t.start()
    try:
        q = find_query(client, LONG)
        client.cancel_open_cypher_query(queryId=q["queryId"])
        t.join(30)
        assert not t.is_alive()
    finally:
        d.close()
    error = outcome.get("error")
    assert isinstance(error, ClientError), outcome
    assert error.code == "Neo.ClientError.Transaction.Terminated"


def test_query_timeout_fails_with_a_timeout_code(start_server):
    s = start_server("--query-timeout-ms", "200")
    d = driver(s)
    try:
        with d.session() as session:
            with pytest.raises(ClientError) as caught:
                session.run(LONG).consume()
        assert caught.value.code == "Neo.ClientError.Transaction.TransactionTimedOut"
    finally:
        d.close()


def test_read_only_server_refuses_writes_over_bolt(start_server):
    s = start_server("--read-only")
    d = driver(s)
    try:
        with d.session() as session:
            with pytest.raises(ClientError) as caught:
                session.run("CREATE (:X)").consume()
            assert caught.value.code == "Neo.ClientError.Statement.AccessMode"
            assert "read-only" in caught.value.message
            assert session.run("RETURN 1 AS x").single()["x"] == 1
            # Statements of explicit transactions too, without retries.
            with pytest.raises(ClientError) as caught:
                session.execute_write(lambda tx: tx.run("CREATE (:X)").consume())
            assert caught.value.code == "Neo.ClientError.Statement.AccessMode"
            assert session.execute_read(lambda tx: tx.run("RETURN 1 AS x").single()["x"]) == 1
    finally:
        d.close()


def test_separate_bolt_listener(start_server):
    s = start_server("--bolt-addr", "127.0.0.1:0")
    addr = re.search(r"listening on bolt://(\S+)", s.log_path.read_text()).group(1)
    assert addr != s.addr
    d = driver(s, "neo4j", addr=addr)
    try:
        with d.session() as session:
            assert session.run("RETURN 3 AS x").single()["x"] == 3
    finally:
        d.close()


REGION = "us-east-1"


def iam_token(addr, access, secret):
    """The Neptune Bolt IAM token: the headers of a SigV4 signature of GET /opencypher."""
    host = addr
    request = AWSRequest(method="GET", url=f"https://{host}/opencypher", data=None)
    request.headers.add_header("Host", host)
    SigV4Auth(Credentials(access, secret), "neptune-db", REGION).add_auth(request)
    doc = {k: request.headers[k] for k in ("Authorization", "X-Amz-Date")}
    doc["Host"] = host
    doc["HttpMethod"] = "GET"
    return json.dumps(doc)


@pytest.fixture(scope="module")
def iam_server():
    users = [
        {
            "name": name,
            "accessKeyId": f"AKID{name.upper()}",
            "secretAccessKey": f"{name}-secret",
            "policy": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
            },
        }
        for name, actions in [
            ("admin", ["neptune-db:*"]),
            ("reader", ["neptune-db:ReadDataViaQuery"]),
        ]
    ]
    path = Path(tempfile.mkstemp(prefix="nereid-iam-", suffix=".json")[1])
    path.write_text(json.dumps({"region": REGION, "users": users}))
    s = Server("--auth", "iam", "--iam-config", str(path))
    yield s
    s.stop()
    path.unlink()


def test_iam_signed_token_logs_in_and_policies_apply(iam_server):
    admin = iam_token(iam_server.addr, "AKIDADMIN", "admin-secret")
    d = driver(iam_server, auth=("ignored", admin))
    try:
        with d.session() as s:
            s.run("CREATE (:IamBolt)").consume()
            assert s.run("MATCH (n:IamBolt) RETURN count(n) AS c").single()["c"] == 1
    finally:
        d.close()
    reader = iam_token(iam_server.addr, "AKIDREADER", "reader-secret")
    d = driver(iam_server, auth=("ignored", reader))
    try:
        with d.session() as s:
            assert s.run("MATCH (n:IamBolt) RETURN count(n) AS c").single()["c"] == 1
            with pytest.raises(ClientError) as caught:
                s.run("CREATE (:IamBolt)").consume()
            assert caught.value.code == "Neo.ClientError.Security.Forbidden"
    finally:
        d.close()


def test_iam_refuses_a_bad_signature(iam_server):
    bad = iam_token(iam_server.addr, "AKIDADMIN", "wrong-secret")
    d = driver(iam_server, auth=("ignored", bad))
    try:
        with pytest.raises(neo4j.exceptions.AuthError):
            with d.session() as s:
                s.run("RETURN 1").consume()
    finally:
        d.close()


def test_a_committed_transaction_is_one_commit_in_the_change_stream(start_server):
    s = start_server("--streams")
    d = driver(s)
    client = s.client()
    try:
        with d.session() as session:
            with session.begin_transaction() as tx:
                tx.run("CREATE (:TxStream {n: 1})").consume()
                tx.run("CREATE (:TxStream {n: 2})").consume()
                tx.run("MATCH (a:TxStream {n: 1}), (b:TxStream {n: 2}) CREATE (a)-[:R]->(b)").consume()
            tx = session.begin_transaction()
            tx.run("CREATE (:TxStream {n: 3})").consume()
            tx.rollback()
    finally:
        d.close()
    page = client.get_propertygraph_stream(iteratorType="TRIM_HORIZON", limit=1000)
    records = page["records"]
    commits = {r["eventId"]["commitNum"] for r in records}
    assert len(commits) == 1, records
    values = sorted(r["data"]["value"]["value"] for r in records
                    if r["data"]["type"] == "vp" and r["data"]["key"] == "n")
    assert values == [1, 2]
    assert any(r["data"]["type"] == "e" for r in records)


def test_a_managed_write_behind_an_open_transaction_is_retried(start_server):
    s = start_server("--lock-wait-ms", "300")
    d = driver(s)
    client = s.client()
    tag = f"conflict{time.monotonic_ns()}"
    attempts, errors = [], []

    def work(tx):
        attempts.append(time.monotonic())
        try:
            tx.run("CREATE (:TxConflict {tag: $t, who: 'managed'})", t=tag).consume()
        except Exception as e:  # noqa: BLE001 - recorded, then re-raised for the driver
            errors.append(e)
            raise

    try:
        holder_session = d.session()
        holder = holder_session.begin_transaction()
        holder.run("CREATE (:TxConflict {tag: $t, who: 'holder'})", t=tag).consume()
        outcome = {}

        def managed():
            try:
                with d.session() as s2:
                    s2.execute_write(work)
                outcome["ok"] = True
            except Exception as e:  # noqa: BLE001
                outcome["error"] = e

        t = threading.Thread(target=managed)
        t.start()
        deadline = time.monotonic() + 20
        while not errors and time.monotonic() < deadline:
            time.sleep(0.02)
        assert errors, "the managed write never met the open transaction"
        # Readers are not blocked meanwhile, and see nothing uncommitted.
        assert count_over_http(client, "TxConflict", tag) == 0
        holder.commit()
        holder_session.close()
        t.join(30)
        assert outcome.get("ok"), outcome
    finally:
        d.close()
    assert isinstance(errors[0], TransientError)
    assert errors[0].code == "Neo.TransientError.Transaction.DeadlockDetected"
    assert "conflicting concurrent operations" in errors[0].message
    assert len(attempts) >= 2
    rows = http(client, "MATCH (n:TxConflict {tag: $t}) RETURN n.who AS w ORDER BY w", t=tag)
    assert rows == [{"w": "holder"}, {"w": "managed"}]


def test_the_transaction_timeout_rolls_back(start_server):
    s = start_server("--transaction-timeout-ms", "400")
    d = driver(s)
    client = s.client()
    tag = f"to{time.monotonic_ns()}"
    try:
        with d.session() as session:
            tx = session.begin_transaction()
            tx.run("CREATE (:TxTimeout {tag: $t})", t=tag).consume()
            time.sleep(0.8)
            with pytest.raises(ClientError) as caught:
                tx.commit()
            assert caught.value.code == "Neo.ClientError.Transaction.TransactionTimedOut"
            assert "timeout of 400 ms" in caught.value.message
            # The driver's own, shorter timeout applies too.
            tx = session.begin_transaction(timeout=0.2)
            tx.run("CREATE (:TxTimeout {tag: $t})", t=tag).consume()
            time.sleep(0.5)
            with pytest.raises(ClientError) as caught:
                tx.run("RETURN 1").consume()
            assert caught.value.code == "Neo.ClientError.Transaction.TransactionTimedOut"
            assert "timeout of 200 ms" in caught.value.message
    finally:
        d.close()
    assert count_over_http(client, "TxTimeout", tag) == 0
    # The write lock was given back: a write over HTTP goes through at once.
    started = time.monotonic()
    http(client, "CREATE (:TxTimeout {tag: 'after'})")
    assert time.monotonic() - started < 2


def test_a_dropped_connection_rolls_back_its_transaction(server, client):
    tag = f"drop{time.monotonic_ns()}"
    sock = raw_connection(server)
    try:
        sock.sendall(message(0x11, tiny_map([])))
        sock.sendall(message(0x10, string(f"CREATE (:TxDrop {{tag: '{tag}'}})"), tiny_map([]),
                             tiny_map([])))
        sock.sendall(message(0x3F, tiny_map([])))
        # HELLO, BEGIN, RUN: SUCCESS; PULL: SUCCESS.
        assert read_responses(sock, 4) == [0x70, 0x70, 0x70, 0x70]
    finally:
        sock.close()
    # The transaction held the write lock; once it is rolled back a write goes through.
    started = time.monotonic()
    http(client, "CREATE (:TxDrop {tag: 'after'})")
    assert time.monotonic() - started < 4
    assert count_over_http(client, "TxDrop", tag) == 0


def test_a_transaction_statement_is_listed_and_cancelled_through_the_status_api(drv, client):
    tag = f"tc{time.monotonic_ns()}"
    text = LONG + f" // {tag}"
    outcome = {}
    with drv.session() as s:
        tx = s.begin_transaction()
        tx.run("CREATE (:TxCancel {tag: $t})", t=tag).consume()

        def run():
            try:
                tx.run(text).consume()
                outcome["ok"] = True
            except Exception as e:  # noqa: BLE001
                outcome["error"] = e

        t = threading.Thread(target=run)
        t.start()
        q = find_query(client, text)
        assert q["queryEvalStats"]["cancelled"] is False
        client.cancel_open_cypher_query(queryId=q["queryId"])
        t.join(30)
        assert not t.is_alive()
        tx.close()
    error = outcome.get("error")
    assert isinstance(error, ClientError), outcome
    assert error.code == "Neo.ClientError.Transaction.Terminated"
    assert count_over_http(client, "TxCancel", tag) == 0


def test_a_large_result_streams_in_fetch_size_batches(server, client):
    d = driver(server)
    text = "UNWIND range(1, 300000) AS x RETURN x // streamed"
    try:
        with d.session(fetch_size=1000) as s:
            result = iter(s.run(text))
            head = [next(result)["x"] for _ in range(1500)]
            # The client holds back: the query waits for it, still running, instead of
            # producing all 300,000 rows into memory.
            time.sleep(0.3)
            q = find_query(client, text)
            assert q["queryString"] == text
            rest = [r["x"] for r in result]
    finally:
        d.close()
    assert head + rest == list(range(1, 300001))
    assert wait_gone(client, text)


def message(tag, *fields):
    body = bytes([0xB0 + len(fields), tag]) + b"".join(fields)
    return struct.pack(">H", len(body)) + body + b"\x00\x00"

def string(s):
    b = s.encode()
    assert len(b) < 256
    return (bytes([0x80 + len(b)]) if len(b) < 16 else bytes([0xD0, len(b)])) + b

def tiny_map(pairs):
    return bytes([0xA0 + len(pairs)]) + b"".join(string(k) + v for k, v in pairs)


def raw_connection(server):
    """A Bolt 4.4 connection by hand, past HELLO, so that it can be cut or RESET mid-query."""
    host, port = server.addr.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"\x60\x60\xb0\x17" + bytes([0, 0, 4, 4]) + bytes(12))
    assert sock.recv(4) == bytes([0, 0, 4, 4])
    sock.sendall(message(0x01, tiny_map([("user_agent", string("raw/1")), ("scheme", string("none"))])))
    return sock


def wait_gone(client, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(q["queryString"] == text for q in client.list_open_cypher_queries()["queries"]):
            return True
        time.sleep(0.05)
    return False


def test_a_dropped_connection_cancels_its_running_query(server, client):
    text = LONG + " // dropped"
    sock = raw_connection(server)
    sock.sendall(message(0x10, string(text), tiny_map([]), tiny_map([])))
    find_query(client, text)
    sock.close()
    assert wait_gone(client, text), "the query kept running after its connection was dropped"


def read_responses(sock, count, timeout=10):
    """The tags of the next `count` responses."""
    sock.settimeout(timeout)
    data = b""
    tags = []
    while len(tags) < count:
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        data += chunk
        tags, pos = [], 0
        while pos + 2 <= len(data):
            body = b""
            while True:
                if pos + 2 > len(data):
                    body = None
                    break
                size = struct.unpack(">H", data[pos:pos + 2])[0]
                pos += 2
                if size == 0:
                    break
                body += data[pos:pos + size]
                pos += size
            if body is None or len(data) < pos:
                break
            tags.append(body[1])
    return tags


def test_reset_interrupts_a_running_query(server, client):
    text = LONG + " // reset"
    sock = raw_connection(server)
    try:
        sock.sendall(message(0x10, string(text), tiny_map([]), tiny_map([])))
        sock.sendall(message(0x3F, tiny_map([])))
        find_query(client, text)
        sock.sendall(message(0x0F))
        assert wait_gone(client, text), "RESET did not cancel the running query"
        # HELLO: SUCCESS; RUN and PULL: IGNORED; RESET: SUCCESS.
        assert read_responses(sock, 4) == [0x70, 0x7E, 0x7E, 0x70]
        # The connection is usable afterwards.
        sock.sendall(message(0x10, string("RETURN 1 AS x"), tiny_map([]), tiny_map([])))
        sock.sendall(message(0x3F, tiny_map([])))
        assert read_responses(sock, 3) == [0x70, 0x71, 0x70]
    finally:
        sock.close()


def closed_by_server(sock, timeout=15):
    """Reads until the server closes the connection; what it sent before closing."""
    sock.settimeout(timeout)
    got = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return got
            got += chunk
    except ConnectionResetError:
        return got


def still_serving(server, client):
    assert http(client, "RETURN 1 AS x") == [{"x": 1}]
    d = driver(server)
    try:
        with d.session() as s:
            assert s.run("RETURN 2 AS x").single()["x"] == 2
    finally:
        d.close()


def test_hostile_bytes_close_only_their_own_connection(server, client):
    host, port = server.addr.rsplit(":", 1)
    # A connection that stays open and idle through all of it, and works afterwards.
    bystander = raw_connection(server)
    try:
        assert read_responses(bystander, 1) == [0x70]
        # The Bolt magic with garbage versions: answered "no version" (zeros), closed.
        sock = socket.create_connection((host, int(port)))
        sock.sendall(b"\x60\x60\xb0\x17" + bytes(range(200, 216)))
        assert closed_by_server(sock) == bytes(4)
        sock.close()
        # No magic at all: treated as (bad) HTTP and closed.
        sock = socket.create_connection((host, int(port)))
        sock.sendall(b"\x00\x01garbage\xff\xfe" * 4 + b"\r\n\r\n")
        answer = closed_by_server(sock)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4")
        sock.close()
        # A truncated frame: a chunk header promising more than ever arrives, then EOF.
        sock = raw_connection(server)
        sock.sendall(struct.pack(">H", 500) + b"\xb1\x10" + b"x" * 20)
        sock.shutdown(socket.SHUT_WR)
        assert closed_by_server(sock).startswith(b"\x00")  # HELLO's SUCCESS, then the end
        sock.close()
        # A whole message that is not PackStream: FAILURE, then closed.
        sock = raw_connection(server)
        assert read_responses(sock, 1) == [0x70]
        sock.sendall(struct.pack(">H", 3) + b"\xb1\x10\xdf" + b"\x00\x00")
        rest = closed_by_server(sock)
        assert b"Neo.ClientError.Request.InvalidFormat" in rest
        sock.close()
        # A message larger than the server accepts (64 MiB): refused before it is buffered.
        sock = raw_connection(server)
        assert read_responses(sock, 1) == [0x70]
        piece = struct.pack(">H", 65535) + b"\x41" * 65535
        try:
            for _ in range(64 * 1024 * 1024 // 65535 + 2):
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        rest = closed_by_server(sock)
        assert b"exceeds the maximum size" in rest or rest == b""
        sock.close()
        # The idle connection is unharmed.
        bystander.sendall(message(0x10, string("RETURN 3 AS x"), tiny_map([]), tiny_map([])))
        bystander.sendall(message(0x3F, tiny_map([])))
        assert read_responses(bystander, 3) == [0x70, 0x71, 0x70]
    finally:
        bystander.close()
    still_serving(server, client)


class TlsServer(Server):
    def _wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if "listening on https://" in text:
                return text.split("listening on https://", 1)[1].split()[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"nereid did not start:\n{self.log_path.read_text(errors='replace')}")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command line")
def test_bolt_over_tls_on_the_https_port(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    server = TlsServer("--tls-cert", str(cert), "--tls-key", str(key))
    try:
        port = server.addr.rsplit(":", 1)[1]
        d = GraphDatabase.driver(f"bolt+ssc://127.0.0.1:{port}", auth=("u", "p"))
        try:
            with d.session() as s:
                assert s.run("RETURN 5 AS x").single()["x"] == 5
        finally:
            d.close()
        # The certificate is checked when asked for.
        d = GraphDatabase.driver(
            f"neo4j://localhost:{port}", auth=("u", "p"), encrypted=True,
            trusted_certificates=neo4j.TrustCustomCAs(str(cert)),
        )
        try:
            with d.session() as s:
                assert s.run("RETURN 6 AS x").single()["x"] == 6
        finally:
            d.close()
        # HTTPS still answers on the same port.
        context = ssl.create_default_context(cafile=str(cert))
        body = urllib.request.urlopen(f"https://localhost:{port}/status", context=context,
                                      timeout=10).read()
        assert b"healthy" in body
        # Plain Bolt (no TLS) on the TLS port is not served.
        with pytest.raises(Exception):
            d = GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("u", "p"),
                                     connection_timeout=3)
            try:
                d.verify_connectivity()
            finally:
                d.close()
    finally:
        server.stop()


NEO4J6_SCRIPT = r"""
import json, sys
from neo4j import GraphDatabase
out = {}
for scheme in ("bolt", "neo4j"):
    with GraphDatabase.driver(f"{scheme}://{sys.argv[1]}", auth=("u", "p")) as d:
        with d.session() as s:
            rec = s.run("CREATE (a:Six {v: $v}) RETURN a, $v AS v", v=[1, "x"]).single()
            with s.begin_transaction() as tx:
                tx.run("CREATE (:SixTx)").consume()
            made = s.execute_write(lambda tx: tx.run("CREATE (n:SixTx) RETURN 1 AS one").single()[0])
            out[scheme] = {
                "element_id": rec["a"].element_id,
                "v": rec["v"],
                "made": made,
                "protocol": list(d.get_server_info().protocol_version),
            }
print(json.dumps(out))
"""

# The 6.x driver of the second environment (tests/python/requirements-neo4j6.txt).
NEO4J6 = "neo4j==6.4.1"


def neo4j6_python():
    """The neo4j 6.x driver's Python: scripts/test's second venv when it says so
    ($NEREID_NEO4J6_PYTHON), else a venv of its own (made once per machine, then reused)."""
    given = os.environ.get("NEREID_NEO4J6_PYTHON")
    if given:
        return Path(given)
    venv = Path(tempfile.gettempdir()) / "nereid-test-neo4j6-venv"
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import neo4j, sys; sys.exit(neo4j.__version__ != '6.4.1')"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True,
                       capture_output=True, timeout=120)
        subprocess.run([str(python), "-m", "pip", "install", "-q", NEO4J6], check=True,
                       capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError) as e:
        pytest.skip(f"cannot install the neo4j 6.x driver: {e}")
    return python


def test_neo4j_6_driver_auto_commit(server, client):
    python = neo4j6_python()
    run = subprocess.run([str(python), "-c", NEO4J6_SCRIPT, server.addr], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    for scheme in ("bolt", "neo4j"):
        assert out[scheme]["protocol"] == [5, 4]
        assert out[scheme]["v"] == [1, "x"]
        assert out[scheme]["made"] == 1
    ids = {r["i"] for r in http(client, "MATCH (n:Six) RETURN id(n) AS i")}
    assert ids == {out["bolt"]["element_id"], out["neo4j"]["element_id"]}
    assert http(client, "MATCH (n:SixTx) RETURN count(n) AS c") == [{"c": 4}]


def test_iam_session_auth_reauthenticates_with_logon(iam_server):
    # A session-level auth makes the driver send LOGOFF + LOGON on a pooled connection.
    admin = iam_token(iam_server.addr, "AKIDADMIN", "admin-secret")
    reader = iam_token(iam_server.addr, "AKIDREADER", "reader-secret")
    d = driver(iam_server, auth=("ignored", admin))
    try:
        with d.session() as s:
            s.run("CREATE (:IamReauth)").consume()
        with d.session(auth=("ignored", reader)) as s:
            with pytest.raises(ClientError) as caught:
                s.run("CREATE (:IamReauth)").consume()
            assert caught.value.code == "Neo.ClientError.Security.Forbidden"
            assert s.run("MATCH (n:IamReauth) RETURN count(n) AS c").single()["c"] == 1
        with d.session() as s:
            s.run("CREATE (:IamReauth)").consume()
            assert s.run("MATCH (n:IamReauth) RETURN count(n) AS c").single()["c"] == 2
    finally:
        d.close()
