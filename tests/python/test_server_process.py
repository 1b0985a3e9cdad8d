"""The server process: data survives a graceful restart, and SIGTERM stops a server that is
busy with a long query promptly, answering that query's caller."""

import time

from helpers import LONG, Background, find_query


def test_commits_survive_a_restart(start_server, tmp_path):
    data = tmp_path / "data"
    first = start_server(data_dir=data)
    c = first.client()
    c.execute_open_cypher_query(
        openCypherQuery="CREATE (:Kept {`~id`: 'kept-1', name: 'durable'})-[:R]->(:Kept {`~id`: 'kept-2'})"
    )
    assert first.stop() == 0

    second = start_server(data_dir=data)
    c = second.client()
    rows = c.execute_open_cypher_query(
        openCypherQuery="MATCH (a:Kept)-[r:R]->(b:Kept) RETURN id(a) AS a, a.name AS name, id(b) AS b"
    )["results"]
    assert rows == [{"a": "kept-1", "name": "durable", "b": "kept-2"}]


def test_sigterm_stops_a_busy_server_promptly(start_server, figures):
    s = start_server("--workers", "1")
    c = s.client()
    running = Background(s.client(), LONG)
    find_query(c, LONG)
    t = time.monotonic()
    assert s.stop() == 0
    took = (time.monotonic() - t) * 1000
    figures("SIGTERM with a running query -> process exited (ms)", f"{took:.1f}")
    assert took < 5000
    running.join()
    assert running.error_code() == "InternalFailureException"
