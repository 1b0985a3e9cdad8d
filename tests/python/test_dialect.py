"""`--dialect neptune` (the default) and `--dialect opencypher` (or NEREID_DIALECT) against the
built binary with boto3: the data model, the refusals, and what /status reports."""

import json

import pytest


def q(c, text, **params):
    args = {"openCypherQuery": text}
    if params:
        args["parameters"] = json.dumps(params)
    return c.execute_open_cypher_query(**args)["results"]


def test_neptune_is_the_default(start_server):
    c = start_server().client()
    status = c.get_engine_status()
    assert status["dbEngineVersion"] == "1.4.1.0.R1"
    assert status["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert q(c, "CREATE (n {name: 'x'}) RETURN labels(n) AS l") == [{"l": ["vertex"]}]
    summary = c.get_propertygraph_summary()["payload"]["graphSummary"]
    assert summary["nodeLabels"] == ["vertex"]
    with pytest.raises(c.exceptions.BadRequestException) as e:
        q(c, "MATCH (n:vertex) REMOVE n:vertex")
    assert "at least one label" in e.value.response["detailedMessage"]
    with pytest.raises(c.exceptions.UnsupportedOperationException) as e:
        q(c, "MATCH p = shortestPath((a)-[*]-(b)) RETURN p")
    assert e.value.response["detailedMessage"].startswith("shortestPath is not supported in this release.")
    for text in ["CALL db.labels()", "RETURN 2 ^ 2 AS x", "FOREACH (x IN [1] | CREATE ())",
                 "MATCH (n) RETURN n LIMIT toInteger(rand())"]:
        with pytest.raises(c.exceptions.UnsupportedOperationException):
            q(c, text)
    assert q(c, "RETURN collToSet([1, 1, 2]) AS s, join(['a', 'b'], '/') AS j") == [
        {"s": [1, 2], "j": "a/b"}
    ]


def status_body(server):
    import urllib.request

    with urllib.request.urlopen(server.url + "/status") as r:
        return json.loads(r.read())


def test_status_reports_the_dialect(start_server):
    assert status_body(start_server())["dialect"] == "neptune"
    assert status_body(start_server("--dialect", "opencypher"))["dialect"] == "opencypher"
    assert status_body(start_server(env={"NEREID_DIALECT": "opencypher"}))["dialect"] == "opencypher"


def test_opencypher_dialect_is_the_full_language(start_server):
    c = start_server("--dialect", "opencypher").client()
    assert q(c, "CREATE (n) RETURN labels(n) AS l") == [{"l": []}]
    q(c, "CREATE (:S {`~id`: 'a'})-[:R]->(:S {`~id`: 'b'})")
    rows = q(c, "MATCH (a {`~id`: 'a'}), (b {`~id`: 'b'}) MATCH p = shortestPath((a)-[*]-(b)) "
                "RETURN length(p) AS n")
    assert rows == [{"n": 1}]
    assert q(c, "RETURN 2 ^ 3 AS x") == [{"x": 8.0}]
    assert q(c, "MATCH (n:S {`~id`: 'a'}) REMOVE n:S RETURN labels(n) AS l") == [{"l": []}]
