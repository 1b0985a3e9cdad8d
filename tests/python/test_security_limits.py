"""Hostile input over HTTP: every limit answers with its coded error and the server stays up.

| input | limit | answer |
|---|---|---|
| body | 157,286,400 bytes (declared or streamed) | BadRequestException |
| query text | 16 MiB | QueryTooLargeException |
| `parameters` | 32 MiB of text, 64 levels of nesting | InvalidParameterException |
| nesting in the query | the parser's depth limit | MalformedQueryException |
| rows a query keeps | `--query-memory-mb` | MemoryLimitExceededException |
"""

import json
import socket
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError


def post(server, body, content_type="application/x-www-form-urlencoded"):
    req = urllib.request.Request(
        server.url + "/openCypher", data=body, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def code_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def still_up(client):
    assert client.execute_open_cypher_query(openCypherQuery="RETURN 1 AS one")["results"] == [{"one": 1}]


def test_deep_nesting_in_the_query_is_malformed_not_a_crash(server, client):
    for text in ("RETURN " + "(" * 100_000 + "1" + ")" * 100_000,
                 "RETURN " + "[" * 100_000 + "]" * 100_000,
                 "RETURN " + "-" * 100_000 + "1",
                 "RETURN " + "{a: " * 50_000 + "1" + "}" * 50_000,
                 "MATCH " + "(" * 100_000):
        status, body = post(server, json.dumps({"query": text}).encode(), "application/json")
        assert (status, body["code"]) == (400, "MalformedQueryException"), body
    still_up(client)


def test_query_text_over_the_limit_is_refused(server, client):
    text = "RETURN 1 " + "/" * 2 + "x" * (16 * 1024 * 1024)
    status, body = post(server, text.encode(), "application/opencypher")
    assert (status, body["code"]) == (400, "QueryTooLargeException"), body
    # A long query under the limit runs.
    text = "RETURN 1 AS one // " + "x" * (1024 * 1024)
    status, body = post(server, text.encode(), "application/opencypher")
    assert (status, body) == (200, {"results": [{"one": 1}]})
    still_up(client)


def nested(depth):
    """JSON text of a value nested `depth` levels below a top-level parameters object."""
    return "[" * (depth - 1) + "1" + "]" * (depth - 1)


def parameters(depth):
    return '{"p": ' + nested(depth) + "}"


def test_parameters_nested_too_deep_are_invalid(client):
    # The top-level object is level 1: 63 more levels of lists are accepted.
    ok = client.execute_open_cypher_query(
        openCypherQuery="RETURN size($p) AS n", parameters=parameters(64)
    )
    assert ok["results"] == [{"n": 1}]
    for depth in (66, 127, 5000):
        code = code_of(lambda: client.execute_open_cypher_query(
            openCypherQuery="RETURN $p", parameters=parameters(depth)))
        assert code == "InvalidParameterException", depth
    still_up(client)


def test_parameters_inline_in_a_json_body_are_checked_too(server):
    body = ('{"query": "RETURN $p", "parameters": ' + parameters(70) + "}").encode()
    status, answer = post(server, body, "application/json")
    assert (status, answer["code"]) == (400, "InvalidParameterException"), answer
    # Deeper than the JSON decoder allows at all: refused as a bad body, not a crash.
    body = b'{"query": "RETURN 1", "parameters": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    status, answer = post(server, body, "application/json")
    assert status == 400 and answer["code"] in ("BadRequestException", "InvalidParameterException"), answer


def test_parameters_document_over_the_limit_is_refused(server):
    text = json.dumps({"s": "x" * (32 * 1024 * 1024)})
    body = json.dumps({"query": "RETURN size($s)", "parameters": text}).encode()
    status, answer = post(server, body, "application/json")
    assert (status, answer["code"]) == (400, "InvalidParameterException"), answer
    assert "exceeds the limit" in answer["detailedMessage"]


def test_declared_body_over_neptunes_limit_is_refused_without_reading_it(server):
    host, port = server.addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(
            b"POST /openCypher HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 157286401\r\n\r\nquery=RETURN+1"
        )
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert json.loads(body)["code"] == "BadRequestException"
    assert b"157286400" in body


def test_results_over_the_memory_budget_fail_with_memory_limit_exceeded(start_server):
    server = start_server("--query-memory-mb", "8")
    client = server.client()
    code = code_of(lambda: client.execute_open_cypher_query(
        openCypherQuery="UNWIND range(1, 2000000) AS x RETURN x, 'padding-' + toString(x) AS s"))
    assert code == "MemoryLimitExceededException"
    code = code_of(lambda: client.execute_open_cypher_query(
        openCypherQuery="UNWIND range(1, 2000000) AS x RETURN collect(x) AS xs"))
    assert code == "MemoryLimitExceededException"
    # Small results still fit, and the server is fine afterwards.
    rows = client.execute_open_cypher_query(
        openCypherQuery="UNWIND range(1, 2000000) AS x RETURN count(x) AS c")["results"]
    assert rows == [{"c": 2000000}]
