"""SPEC section 10, checks 7-9: status listing, cancellation, timeouts, plus the waiting queue
and throttling, with the real boto3 client. Measured latencies are reported at the end of the
run (see conftest.py)."""

import time

import pytest

from helpers import LONG, Background, find_query


def test_long_query_is_listed_polled_and_cancelled(server, figures):
    c = server.client()
    runner = Background(server.client(), LONG)
    entry = find_query(c, LONG)
    qid = entry["queryId"]

    listing = c.list_open_cypher_queries(includeWaiting=True)
    assert listing["acceptedQueryCount"] >= 1 and listing["runningQueryCount"] >= 1
    (ours,) = [q for q in listing["queries"] if q["queryId"] == qid]
    stats = ours["queryEvalStats"]
    assert isinstance(stats["waited"], int) and isinstance(stats["elapsed"], int)
    assert stats["cancelled"] is False

    first = c.get_open_cypher_query_status(queryId=qid)
    t1 = time.monotonic()
    assert first["queryId"] == qid and first["queryString"] == LONG
    time.sleep(0.3)
    second = c.get_open_cypher_query_status(queryId=qid)
    t2 = time.monotonic()
    e1, e2 = first["queryEvalStats"]["elapsed"], second["queryEvalStats"]["elapsed"]
    assert e2 > e1, (first, second)
    growth_wall = (t2 - t1) * 1000
    figures("elapsed growth between two polls (reported vs wall, ms)", f"{e2 - e1} vs {growth_wall:.1f}")
    assert abs((e2 - e1) - growth_wall) < 100
    reported = second["queryEvalStats"]["waited"] + e2
    wall = (t2 - runner.sent_at) * 1000
    figures("waited+elapsed vs wall clock since send (ms)", f"{reported} vs {wall:.1f} (diff {wall - reported:.1f})")
    assert reported <= wall + 1 and wall - reported < 250

    t_cancel = time.monotonic()
    response = c.cancel_open_cypher_query(queryId=qid)
    assert response["status"] == "200 OK"
    runner.join()
    latency = (runner.finished_at - t_cancel) * 1000
    figures("cancel latency, running query (cancel sent -> caller has its error, ms)", f"{latency:.1f}")
    assert isinstance(runner.error, runner.client.exceptions.CancelledByUserException)
    assert runner.error.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert runner.error.response["requestId"] == qid
    assert latency < 1000

    with pytest.raises(c.exceptions.InvalidParameterException):
        c.get_open_cypher_query_status(queryId=qid)


def test_silent_cancel_returns_empty_results(server):
    c = server.client()
    # A UNION of two branches: one subquery beyond the first branch.
    text = LONG + " AS n UNION RETURN 1 AS n"
    runner = Background(server.client(), text)
    qid = find_query(c, text)["queryId"]
    assert c.get_open_cypher_query_status(queryId=qid)["queryEvalStats"]["subqueries"] == 1
    assert c.cancel_open_cypher_query(queryId=qid, silent=True)["status"] == "200 OK"
    runner.join()
    assert runner.error is None, runner.error
    assert runner.result["results"] == []


def test_unknown_query_id(client):
    qid = "ac7d5a03-00cf-4280-b464-edbcbf51ffce"
    with pytest.raises(client.exceptions.InvalidParameterException) as info:
        client.get_open_cypher_query_status(queryId=qid)
    assert info.value.response["detailedMessage"] == f"Supplied queryId {qid} is invalid"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(client.exceptions.InvalidParameterException):
        client.cancel_open_cypher_query(queryId=qid)


def test_waiting_query_is_cancelled_before_it_runs(start_server, figures):
    s = start_server("--workers", "1")
    c = s.client()
    long = Background(s.client(), LONG)
    find_query(c, LONG)
    waiting_text = "CREATE (:NeverRuns {k: 1}) RETURN 1 AS one"
    waiting = Background(s.client(), waiting_text)
    entry = find_query(c, waiting_text, include_waiting=True)
    qid = entry["queryId"]

    running_only = c.list_open_cypher_queries(includeWaiting=False)
    assert running_only["acceptedQueryCount"] == 2
    assert running_only["runningQueryCount"] == 1
    assert [q["queryString"] for q in running_only["queries"]] == [LONG]

    time.sleep(0.2)
    status = c.get_open_cypher_query_status(queryId=qid)
    wall = (time.monotonic() - waiting.sent_at) * 1000
    stats = status["queryEvalStats"]
    assert stats["elapsed"] == 0
    figures("waited of a queued query vs wall clock since send (ms)", f"{stats['waited']} vs {wall:.1f} (diff {wall - stats['waited']:.1f})")
    assert 150 <= stats["waited"] <= wall + 1

    t_cancel = time.monotonic()
    c.cancel_open_cypher_query(queryId=qid)
    waiting.join()
    figures("cancel latency, waiting query (ms)", f"{(waiting.finished_at - t_cancel) * 1000:.1f}")
    assert waiting.error_code() == "CancelledByUserException"

    long_id = find_query(c, LONG)["queryId"]
    c.cancel_open_cypher_query(queryId=long_id, silent=True)
    assert long.join().result["results"] == []
    # The cancelled CREATE never ran.
    result = c.execute_open_cypher_query(openCypherQuery="MATCH (n:NeverRuns) RETURN count(n) AS n")
    assert result["results"] == [{"n": 0}]


def test_query_hint_timeout(start_server):
    s = start_server()
    c = s.client()
    c.execute_open_cypher_query(openCypherQuery="UNWIND range(1, 300) AS i CREATE (:T {i: i})")
    with pytest.raises(c.exceptions.TimeLimitExceededException) as info:
        c.execute_open_cypher_query(
            openCypherQuery="USING QUERY:TIMEOUTMILLISECONDS 1 MATCH (a),(b),(c) RETURN count(*)"
        )
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_server_timeout(start_server, figures):
    s = start_server("--query-timeout-ms", "500")
    c = s.client()
    assert c.get_engine_status()["settings"]["clusterQueryTimeoutInMs"] == "500"
    t = time.monotonic()
    with pytest.raises(c.exceptions.TimeLimitExceededException) as info:
        c.execute_open_cypher_query(openCypherQuery=LONG)
    took = (time.monotonic() - t) * 1000
    figures("--query-timeout-ms 500: caller got TimeLimitExceededException after (ms)", f"{took:.1f}")
    assert 500 <= took < 2000
    assert info.value.response["detailedMessage"] == "Operation terminated (deadline exceeded)"


def test_full_queue_throttles(start_server):
    s = start_server("--workers", "1", "--queue-size", "1")
    c = s.client()
    first = Background(s.client(), LONG)
    first_id = find_query(c, LONG)["queryId"]
    second_text = LONG + " // queued"
    second = Background(s.client(), second_text)
    second_id = find_query(c, second_text, include_waiting=True)["queryId"]

    with pytest.raises(c.exceptions.ThrottlingException) as info:
        c.execute_open_cypher_query(openCypherQuery="RETURN 1")
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert response["detailedMessage"].startswith(
        "Max number of request have breached, ConfiguredQueueCapacity=1"
    )

    # With boto3's default configuration a ThrottlingException (500) is retried: 3 attempts.
    default = s.client(read_timeout=60, retries={"mode": "standard"})
    with pytest.raises(default.exceptions.ThrottlingException) as info:
        default.execute_open_cypher_query(openCypherQuery="RETURN 1")
    assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 2

    c.cancel_open_cypher_query(queryId=second_id)
    c.cancel_open_cypher_query(queryId=first_id)
    assert second.join().error_code() == "CancelledByUserException"
    assert first.join().error_code() == "CancelledByUserException"
    assert c.execute_open_cypher_query(openCypherQuery="RETURN 1 AS x")["results"] == [{"x": 1}]
