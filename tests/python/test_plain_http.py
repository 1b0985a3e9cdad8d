"""The plain HTTPS forms of SPEC section 4 (what curl, awscurl and graph-notebook send),
with nothing but the standard library."""

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

LONG = "UNWIND range(1, 1000000000) AS x RETURN count(x)"


def call(server, method, path, body=None, content_type=None):
    """Returns (status, headers, parsed JSON body)."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(server.url + path, data=data, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read())


def form(**fields):
    return urllib.parse.urlencode(fields)


def test_form_post(server):
    status, _, body = call(
        server, "POST", "/openCypher",
        form(query="RETURN $a AS a", parameters=json.dumps({"a": "x"})),
        "application/x-www-form-urlencoded",
    )
    assert (status, body) == (200, {"results": [{"a": "x"}]})


def test_get_with_query_string(server):
    status, _, body = call(server, "GET", "/openCypher?" + form(query="RETURN 2 AS two"))
    assert (status, body) == (200, {"results": [{"two": 2}]})


def test_direct_post_with_parameters_in_the_url(server):
    status, _, body = call(
        server, "POST", "/openCypher?" + form(parameters=json.dumps({"n": 5})),
        "RETURN $n * 2 AS n", "application/opencypher",
    )
    assert (status, body) == (200, {"results": [{"n": 10}]})


def test_errors_carry_the_envelope(server):
    status, headers, body = call(server, "GET", "/openCypher/status?queryId=nope")
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "InvalidParameterException"
    assert body["code"] == "InvalidParameterException"
    assert body["detailedMessage"] == "Supplied queryId nope is invalid"
    assert headers["x-amzn-RequestId"] == body["requestId"]

    status, headers, body = call(server, "PUT", "/openCypher", form(query="RETURN 1"))
    assert status == 405 and body["code"] == "MethodNotAllowedException"
    status, _, body = call(server, "POST", "/openCypher", form(parameters="{}"),
                           "application/x-www-form-urlencoded")
    assert status == 400 and body["code"] == "MissingParameterException"
    status, _, body = call(server, "GET", "/no/such/route")
    assert status == 400 and body["code"] == "BadRequestException"


def test_raw_status_api_lists_and_silently_cancels(server):
    outcome = {}

    def run():
        outcome["reply"] = call(server, "POST", "/openCypher", form(query=LONG),
                                "application/x-www-form-urlencoded")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    qid = None
    while qid is None and time.monotonic() < deadline:
        _, _, listing = call(server, "POST", "/openCypher/status", form(includeWaiting="True"),
                             "application/x-www-form-urlencoded")
        qid = next((q["queryId"] for q in listing["queries"] if q["queryString"] == LONG), None)
        time.sleep(0.01)
    assert qid, "the long query never showed up"

    status, _, body = call(server, "GET", "/openCypher/status?" + form(queryId=qid))
    assert status == 200 and body["queryId"] == qid
    status, _, body = call(server, "POST", "/openCypher/status",
                           form(queryId=qid, cancelQuery="", silent="True"),
                           "application/x-www-form-urlencoded")
    assert (status, body) == (200, {"status": "200 OK"})
    thread.join(30)
    assert outcome["reply"][0] == 200 and outcome["reply"][2] == {"results": []}


def test_sparql_probe_answers_as_an_empty_rdf_graph(server):
    # Tools written for a whole Neptune cluster (the awslabs MCP server) probe /sparql.
    select = "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class"
    status, _, body = call(server, "GET", "/sparql?" + urllib.parse.urlencode({"query": select}))
    assert (status, body) == (200, {"head": {"vars": ["class", "n"]}, "results": {"bindings": []}})
    status, _, body = call(server, "POST", "/sparql", form(query="ASK { ?s ?p ?o }"),
                           "application/x-www-form-urlencoded")
    assert (status, body) == (200, {"head": {}, "boolean": False})
    status, _, body = call(server, "POST", "/sparql", "SELECT * { ?s ?p ?o }", "application/sparql-query")
    assert (status, body["results"]) == (200, {"bindings": []})
    status, _, body = call(server, "POST", "/sparql", form(update="INSERT DATA { <a> <b> <c> }"),
                           "application/x-www-form-urlencoded")
    assert (status, body["code"]) == (400, "UnsupportedOperationException")
