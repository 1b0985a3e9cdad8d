"""Neptune tools other than boto3, unmodified, against nereid: LangChain's NeptuneGraph
(langchain_aws), graph-notebook's Neptune client as its magics drive it (%summary,
%statistics, %%oc explain, %db_reset), and the AWS CLI v1 (aws neptunedata ...)."""

import json
import os
import subprocess
import sys

import pytest
from pydantic import SecretStr

GRAPH = (
    "CREATE (a:Person {name: 'ann', age: 41})-[:KNOWS {since: 2020}]->(b:Person {name: 'bob'}), "
    "(a)-[:LIVES_IN]->(c:City {name: 'Paris'}), (b)-[:LIVES_IN]->(c)"
)


@pytest.fixture(scope="module")
def nereid(server):
    server.client().execute_open_cypher_query(openCypherQuery="MATCH (n) DETACH DELETE n")
    server.client().execute_open_cypher_query(openCypherQuery=GRAPH)
    return server


def test_langchain_neptune_graph_constructs_and_reads_the_schema(nereid):
    from langchain_aws.graphs import NeptuneGraph

    host, port = nereid.addr.rsplit(":", 1)
    graph = NeptuneGraph(
        host=host,
        port=int(port),
        use_https=False,
        region_name="us-east-1",
        aws_access_key_id=SecretStr("AKIDEXAMPLE"),
        aws_secret_access_key=SecretStr("dummy-secret"),
    )
    schema = graph.get_schema
    assert "(:`Person`)-[:`KNOWS`]->(:`Person`)" in schema
    assert "(:`Person`)-[:`LIVES_IN`]->(:`City`)" in schema
    assert "{'property': 'since', 'type': 'INTEGER'}" in schema
    assert "'labels': 'City'" in schema
    assert "{'property': 'age', 'type': 'INTEGER'}" in schema
    rows = graph.query("MATCH (p:Person {name: $name}) RETURN p.age AS age", {"name": "ann"})
    assert rows == [{"age": 41}]
    assert graph.query("MATCH (c:City) RETURN c.name AS n") == [{"n": "Paris"}]


@pytest.fixture(scope="module")
def notebook(nereid):
    from graph_notebook.neptune.client import Client

    host, port = nereid.addr.rsplit(":", 1)
    # graph-notebook treats hosts outside its Neptune allow-list as Neo4j; the allow-list is
    # its `neptune_hosts` setting (%graph_notebook_config), so nereid's host goes on it.
    client = Client(host=host, port=int(port), ssl=False, neptune_hosts=[host])
    assert client.is_neptune_domain()
    yield client
    client.close()


def test_graph_notebook_summary_and_statistics(notebook):
    # %summary and %summary --detailed
    res = notebook.statistics("propertygraph", True, "basic", False)
    assert res.status_code == 200
    summary = res.json()["payload"]["graphSummary"]
    assert summary["numNodes"] == 3 and summary["numEdges"] == 3
    assert summary["nodeLabels"] == ["City", "Person"]
    res = notebook.statistics("propertygraph", True, "detailed", False)
    assert len(res.json()["payload"]["graphSummary"]["nodeStructures"]) == 3
    # %statistics (status), --mode refresh (a POST without a Content-Type), --mode delete
    status = notebook.statistics("propertygraph", False, "status")
    assert status.status_code == 200 and status.json()["payload"]["active"] is True
    refresh = notebook.statistics("pg", False, "refresh")
    assert refresh.status_code == 200, refresh.text
    assert refresh.json()["payload"]["statisticsId"] > 0
    deleted = notebook.statistics("oc", False, "delete")
    assert deleted.status_code == 200
    assert deleted.json()["payload"] == {"active": False, "statisticsId": -1}
    again = notebook.statistics("oc", False, "delete")
    assert again.status_code == 204 and again.content == b""
    # %summary with no statistics: a 400 graph-notebook reports.
    res = notebook.statistics("propertygraph", True, "basic", False)
    assert res.status_code == 400
    assert res.json()["code"] == "StatisticsNotAvailableException"
    assert notebook.statistics("pg", False, "refresh").status_code == 200
    assert notebook.statistics("pg", True, "basic").status_code == 200


def test_graph_notebook_oc_explain_and_query(notebook):
    res = notebook.opencypher_http("MATCH (p:Person)-[:KNOWS]->(f) RETURN f.name", explain="dynamic")
    res.raise_for_status()
    assert res.headers["content-type"].startswith("text/html")
    html = res.content.decode("utf-8")
    assert "<table>" in html and "<th>Units Out</th>" in html and "ProduceResults" in html
    res = notebook.opencypher_http("MATCH (n) RETURN count(n) AS n")
    assert res.json() == {"results": [{"n": 3}]}
    res = notebook.opencypher_http("CREATE (:X)", explain="static")
    assert res.status_code == 400 and res.json()["code"] == "UnsupportedOperationException"


def test_graph_notebook_db_reset(start_server):
    from graph_notebook.neptune.client import Client

    s = start_server()
    s.client().execute_open_cypher_query(openCypherQuery=GRAPH)
    host, port = s.addr.rsplit(":", 1)
    client = Client(host=host, port=int(port), ssl=False, neptune_hosts=[host])
    token = client.initiate_reset().json()["payload"]["token"]
    res = client.perform_reset(token)
    assert res.status_code == 200 and res.json() == {"status": "200 OK"}
    assert client.opencypher_http("MATCH (n) RETURN count(n) AS n").json() == {
        "results": [{"n": 0}]
    }
    client.close()


def aws(server, *args):
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY="dummy-secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    out = subprocess.run(
        [sys.executable, "-m", "awscli", "neptunedata", *args, "--endpoint-url", server.url,
         "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out


def test_aws_cli_summary_and_fast_reset(start_server):
    s = start_server()
    s.client().execute_open_cypher_query(openCypherQuery=GRAPH)
    out = aws(s, "get-propertygraph-summary", "--mode", "detailed")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["statusCode"] == 200
    summary = body["payload"]["graphSummary"]
    assert summary["numNodes"] == 3 and summary["edgeLabels"] == ["KNOWS", "LIVES_IN"]
    assert {"count": 1, "edgeProperties": ["since"]} in summary["edgeStructures"]

    out = aws(s, "execute-fast-reset", "--action", "initiateDatabaseReset")
    assert out.returncode == 0, out.stderr
    token = json.loads(out.stdout)["payload"]["token"]
    out = aws(s, "execute-fast-reset", "--action", "performDatabaseReset", "--token", "wrong")
    assert out.returncode != 0 and "InvalidParameterException" in out.stderr
    out = aws(s, "execute-fast-reset", "--action", "performDatabaseReset", "--token", token)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "200 OK"
    out = aws(s, "get-propertygraph-summary")
    assert json.loads(out.stdout)["payload"]["graphSummary"]["numNodes"] == 0
