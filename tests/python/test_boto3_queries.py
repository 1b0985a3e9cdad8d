"""SPEC section 10, checks 1-5: the real boto3 `neptunedata` client against nereid."""

import json

import pytest


def rows(client, query, **params):
    args = {"openCypherQuery": query}
    if params:
        args["parameters"] = json.dumps(params)
    response = client.execute_open_cypher_query(**args)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    return response["results"]


def test_engine_status(client):
    status = client.get_engine_status()
    assert status["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert status["status"] == "healthy"
    assert status["role"] in {"writer", "reader"}
    parts = status["dbEngineVersion"].split(".")
    assert len(parts) == 5 and all(p.isdigit() for p in parts[:4]), status["dbEngineVersion"]
    assert isinstance(status["opencypher"]["version"], str)
    assert status["settings"]["clusterQueryTimeoutInMs"].isdigit()
    assert status["startTime"]


def test_create_and_read_back_with_parameters(client):
    created = rows(
        client,
        "CREATE (n:Person {`~id`: 'check2-p1', name: $name}) RETURN n",
        name="Ada-check2",
    )
    assert created == [
        {
            "n": {
                "~id": "check2-p1",
                "~entityType": "node",
                "~labels": ["Person"],
                "~properties": {"name": "Ada-check2"},
            }
        }
    ]
    found = rows(
        client,
        "MATCH (n:Person {name: $name}) RETURN n.name AS name, id(n) AS id",
        name="Ada-check2",
    )
    assert found == [{"name": "Ada-check2", "id": "check2-p1"}]


def test_relationship_and_path_encoding(client):
    rows(
        client,
        "CREATE (:Person {`~id`: 'check3-a', name: 'A'})-[:KNOWS {since: 2020}]->"
        "(:Person {`~id`: 'check3-b', name: 'B'})",
    )
    result = rows(client, "MATCH p=(a {`~id`:'check3-a'})-[r:KNOWS]->(b) RETURN r, p")
    assert len(result) == 1
    r, p = result[0]["r"], result[0]["p"]
    assert r["~entityType"] == "relationship"
    assert isinstance(r["~id"], str)
    assert r["~start"] == "check3-a" and r["~end"] == "check3-b"
    assert r["~type"] == "KNOWS"
    assert r["~properties"] == {"since": 2020}
    assert isinstance(p, list) and len(p) == 3
    assert [e["~entityType"] for e in p] == ["node", "relationship", "node"]
    assert p[0]["~id"] == "check3-a" and p[2]["~id"] == "check3-b"
    assert p[1] == r


def test_scalars_and_aggregation(client):
    result = rows(
        client,
        "RETURN 1 AS one, 2.5 AS f, 'x' AS s, true AS b, null AS z, [1,2] AS l, {k: 1} AS m",
    )
    assert result == [{"one": 1, "f": 2.5, "s": "x", "b": True, "z": None, "l": [1, 2], "m": {"k": 1}}]
    assert type(result[0]["one"]) is int and type(result[0]["f"]) is float
    counted = rows(client, "MATCH (n) RETURN count(n)")
    assert list(counted[0]) == ["count(n)"] and isinstance(counted[0]["count(n)"], int)


def test_parameters_of_every_json_type(client):
    params = {"i": 9007199254740993, "f": 0.5, "s": "é", "b": False, "n": None, "l": [1, [2]], "m": {"k": "v"}}
    result = rows(client, "RETURN $i AS i, $f AS f, $s AS s, $b AS b, $n AS n, $l AS l, $m AS m", **params)
    assert result == [params]


def test_syntax_error_is_malformed_query_after_one_attempt(server):
    # The default client config: a retryable error would be retried, this one must not be.
    client = server.client(read_timeout=60, retries={"mode": "standard"})
    with pytest.raises(client.exceptions.MalformedQueryException) as info:
        client.execute_open_cypher_query(openCypherQuery="MATCH (n RETURN n")
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["RetryAttempts"] == 0
    assert response["code"] == "MalformedQueryException"
    assert response["requestId"]
    assert response["detailedMessage"]
    assert "line" in response["detailedMessage"] and "column" in response["detailedMessage"]


def test_missing_and_invalid_parameters(client):
    with pytest.raises(client.exceptions.InvalidParameterException):
        client.execute_open_cypher_query(openCypherQuery="RETURN $x", parameters="{not json")
    with pytest.raises(client.exceptions.InvalidParameterException):
        client.execute_open_cypher_query(openCypherQuery="RETURN $x", parameters="[1]")


def test_runtime_type_error_is_a_coded_400(client):
    with pytest.raises(client.exceptions.ClientError) as info:
        client.execute_open_cypher_query(
            openCypherQuery="RETURN $x - 1 AS y", parameters=json.dumps({"x": "a"})
        )
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["code"].endswith("Exception")
