"""The rest of the openCypher data plane with the real boto3 client: the property-graph
summary (checked exactly against a graph built here, through creates, deletes, label and
property changes), statistics, explain, fast reset of a durable database, and request
bytes that are not UTF-8."""

import json
import urllib.error
import urllib.request
from collections import Counter

import pytest


def q(c, text, **params):
    args = {"openCypherQuery": text}
    if params:
        args["parameters"] = json.dumps(params)
    return c.execute_open_cypher_query(**args)["results"]


class Model:
    """What the test created: nodes with labels and property keys, relationships with a type,
    both ends and property keys. The expected summary is computed from it by brute force."""

    def __init__(self):
        self.nodes = {}  # id -> (set(labels), set(keys))
        self.rels = {}  # id -> (type, start, end, set(keys))

    def summary(self, detailed=False):
        labels = Counter(l for ls, _ in self.nodes.values() for l in ls)
        types = Counter(t for t, _, _, _ in self.rels.values())
        nkeys = Counter(k for _, ks in self.nodes.values() for k in ks)
        rkeys = Counter(k for *_, ks in self.rels.values() for k in ks)
        by_freq = lambda c: [{k: n} for k, n in sorted(c.items(), key=lambda e: (-e[1], e[0]))]
        s = {
            "numNodes": len(self.nodes),
            "numEdges": len(self.rels),
            "numNodeLabels": len(labels),
            "numEdgeLabels": len(types),
            "nodeLabels": sorted(labels),
            "edgeLabels": sorted(types),
            "numNodeProperties": len(nkeys),
            "numEdgeProperties": len(rkeys),
            "nodeProperties": by_freq(nkeys),
            "edgeProperties": by_freq(rkeys),
            "totalNodePropertyValues": sum(nkeys.values()),
            "totalEdgePropertyValues": sum(rkeys.values()),
        }
        if detailed:
            structures = Counter(
                (
                    tuple(sorted(ks)),
                    tuple(sorted({t for t, s_, _, _ in self.rels.values() if s_ == n})),
                )
                for n, (_, ks) in self.nodes.items()
            )
            s["nodeStructures"] = sorted(
                (
                    {"count": c, "nodeProperties": list(p), "distinctOutgoingEdgeLabels": list(o)}
                    for (p, o), c in structures.items()
                ),
                key=lambda x: (-x["count"], x["nodeProperties"], x["distinctOutgoingEdgeLabels"]),
            )
            edges = Counter(tuple(sorted(ks)) for *_, ks in self.rels.values())
            s["edgeStructures"] = sorted(
                ({"count": c, "edgeProperties": list(p)} for p, c in edges.items()),
                key=lambda x: (-x["count"], x["edgeProperties"]),
            )
        return s


def check_summary(c, model):
    basic = c.get_propertygraph_summary()
    assert basic["statusCode"] == 200
    payload = basic["payload"]
    assert payload["version"] == "v1"
    assert payload["lastStatisticsComputationTime"].tzinfo is not None  # botocore parsed it
    assert payload["graphSummary"] == model.summary()
    detailed = c.get_propertygraph_summary(mode="detailed")["payload"]["graphSummary"]
    assert detailed == model.summary(detailed=True)


def test_summary_is_exact_through_creates_deletes_and_label_changes(start_server):
    c = start_server().client()
    m = Model()
    check_summary(c, m)
    for i in range(30):
        labels = ["Person"] + (["Admin"] if i % 5 == 0 else [])
        keys = {"name": f"p{i}", **({"age": i} if i % 3 == 0 else {})}
        q(c, f"CREATE (n:{':'.join(labels)} {{`~id`: $id}}) SET n += $props", id=f"p{i}", props=keys)
        m.nodes[f"p{i}"] = (set(labels), set(keys))
    q(c, "CREATE (:City {`~id`: 'c1', name: 'x', pop: 1}), (:City {`~id`: 'c2', name: 'y'})")
    m.nodes["c1"] = ({"City"}, {"name", "pop"})
    m.nodes["c2"] = ({"City"}, {"name"})
    for i in range(29):
        since = {"since": 2000 + i} if i % 2 else {}
        q(c, "MATCH (a {`~id`: $a}), (b {`~id`: $b}) CREATE (a)-[r:KNOWS {`~id`: $r}]->(b) SET r += $p",
          a=f"p{i}", b=f"p{i + 1}", r=f"k{i}", p=since)
        m.rels[f"k{i}"] = ("KNOWS", f"p{i}", f"p{i + 1}", set(since))
    for i in range(0, 30, 4):
        q(c, "MATCH (a {`~id`: $a}), (c {`~id`: 'c1'}) CREATE (a)-[:LIVES_IN {`~id`: $r}]->(c)",
          a=f"p{i}", r=f"l{i}")
        m.rels[f"l{i}"] = ("LIVES_IN", f"p{i}", "c1", set())
    check_summary(c, m)

    # Label changes: remove one label, add another.
    q(c, "MATCH (n:Admin) REMOVE n:Admin SET n:Staff")
    for labels, _ in m.nodes.values():
        if "Admin" in labels:
            labels.discard("Admin")
            labels.add("Staff")
    # Property changes: remove a key, add one, overwrite one (no change in counts).
    q(c, "MATCH (n {`~id`: 'p3'}) REMOVE n.age SET n.nick = 'three', n.name = 'x'")
    m.nodes["p3"][1].discard("age")
    m.nodes["p3"][1].add("nick")
    q(c, "MATCH ()-[r {`~id`: 'k1'}]->() SET r.since = null, r.w = 1.5")
    m.rels["k1"][3].discard("since")
    m.rels["k1"][3].add("w")
    check_summary(c, m)

    # Deletes: relationships, then nodes with DETACH DELETE.
    q(c, "MATCH ()-[r:LIVES_IN]->() DELETE r")
    m.rels = {k: v for k, v in m.rels.items() if v[0] != "LIVES_IN"}
    q(c, "MATCH (n) WHERE id(n) IN ['p0', 'p1', 'c1'] DETACH DELETE n")
    for n in ["p0", "p1", "c1"]:
        del m.nodes[n]
    m.rels = {k: v for k, v in m.rels.items() if v[1] in m.nodes and v[2] in m.nodes}
    check_summary(c, m)


def test_summary_counts_survive_a_restart(start_server, tmp_path):
    s = start_server(data_dir=tmp_path / "db")
    c = s.client()
    q(c, "UNWIND range(1, 200) AS i CREATE (:N {i: i})-[:R {w: i}]->(:M)")
    q(c, "MATCH (m:M) WHERE id(m) IS NOT NULL WITH m LIMIT 50 SET m:Extra, m.x = 1")
    before = c.get_propertygraph_summary(mode="detailed")["payload"]["graphSummary"]
    assert before["numNodes"] == 400 and before["numEdges"] == 200
    assert before["nodeLabels"] == ["Extra", "M", "N"]
    s.stop()
    c = start_server(data_dir=tmp_path / "db").client()
    after = c.get_propertygraph_summary(mode="detailed")["payload"]["graphSummary"]
    assert after == before


def test_summary_errors(start_server):
    c = start_server().client()
    # botocore does not check enum values, so the server answers.
    with pytest.raises(c.exceptions.InvalidParameterException) as e:
        c.get_propertygraph_summary(mode="everything")
    assert e.value.response["detailedMessage"] == (
        "URI query parameter 'mode' has unsupported value 'everything'"
    )


def test_statistics_status_refresh_and_delete(start_server):
    c = start_server().client()
    q(c, "CREATE (:A {x: 1})-[:T]->(:B)")
    st = c.get_propertygraph_statistics()
    assert st["status"] == "200 OK"
    p = st["payload"]
    assert p["autoCompute"] is True and p["active"] is True
    assert int(p["statisticsId"]) > 0
    assert p["date"].year >= 2024
    assert p["signatureInfo"] == {"signatureCount": 3, "instanceCount": 3, "predicateCount": 2}

    assert c.manage_propertygraph_statistics(mode="disableAutoCompute")["status"] == "200 OK"
    q(c, "CREATE (:C)")
    assert c.get_propertygraph_summary()["payload"]["graphSummary"]["numNodes"] == 2
    refreshed = c.manage_propertygraph_statistics(mode="refresh")
    assert int(refreshed["payload"]["statisticsId"]) >= int(p["statisticsId"])
    assert c.get_propertygraph_summary()["payload"]["graphSummary"]["numNodes"] == 3
    c.manage_propertygraph_statistics(mode="enableAutoCompute")
    assert c.get_propertygraph_statistics()["payload"]["autoCompute"] is True

    deleted = c.delete_propertygraph_statistics()
    assert deleted["statusCode"] == 200
    assert deleted["payload"]["active"] is False
    assert int(deleted["payload"]["statisticsId"]) == -1
    again = c.delete_propertygraph_statistics()
    assert again["statusCode"] == 204
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(c.exceptions.StatisticsNotAvailableException):
        c.get_propertygraph_summary()
    st = c.get_propertygraph_statistics()["payload"]
    assert st["active"] is False and int(st["statisticsId"]) == -1
    c.manage_propertygraph_statistics(mode="refresh")
    assert c.get_propertygraph_summary()["payload"]["graphSummary"]["numNodes"] == 3


def explain(c, query, mode, **params):
    args = {"openCypherQuery": query, "explainMode": mode}
    if params:
        args["parameters"] = json.dumps(params)
    return c.execute_open_cypher_explain_query(**args)["results"].read().decode("utf-8")


def table_rows(text):
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("╠"))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("╚"):
            break
        if line.startswith("║"):
            rows.append([cell.strip() for cell in line.strip("║").split("│")])
    return rows


def test_explain_modes_match_profile(start_server):
    c = start_server().client()
    q(c, "UNWIND range(1, 100) AS i CREATE (:P {i: i})")
    query = "MATCH (p:P) WHERE p.i % 4 = 0 RETURN p.i AS i ORDER BY i LIMIT 7"
    text = explain(c, query, "dynamic")
    lines = text.splitlines()
    assert lines[0].startswith("╔") and lines[-1].startswith("╚")
    header = [h.strip() for h in lines[1].strip("║").split("│")]
    assert header == ["ID", "Out #1", "Out #2", "Name", "Arguments", "Mode",
                      "Units In", "Units Out", "Ratio", "Time (ms)"]
    rows = table_rows(text)
    assert rows[-1][3] == "ProduceResults" and rows[-1][7] == "7" and rows[-1][1] == "-"
    profile = q(c, "PROFILE " + query)[0]["plan"]
    # Every operator's Units Out is its row count in PROFILE.
    for row in rows:
        name, out = row[3], row[7]
        assert any(name in l and l.split()[1] == out for l in profile.splitlines()), (row, profile)
    static = explain(c, query, "static")
    assert all(r[6:] == ["-", "-", "-", "-"] for r in table_rows(static))
    details = explain(c, query, "details")
    assert details.startswith("Query:\n" + query + "\n\n╔")
    with_params = explain(c, "MATCH (p:P) WHERE p.i = $i RETURN p", "dynamic", i=5)
    assert table_rows(with_params)[-1][7] == "1"


def test_explain_refuses_updates_with_neptunes_error(start_server):
    c = start_server().client()
    with pytest.raises(c.exceptions.UnsupportedOperationException) as e:
        explain(c, "CREATE (:X)", "static")
    assert "read-only" in e.value.response["detailedMessage"]
    assert q(c, "MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
    with pytest.raises(c.exceptions.MalformedQueryException):
        explain(c, "MATCH (n RETURN n", "static")


def test_fast_reset_is_durable(start_server, tmp_path):
    s = start_server(data_dir=tmp_path / "db")
    c = s.client()
    q(c, "UNWIND range(1, 1000) AS i CREATE (:Big {i: i})-[:R]->(:Big)")
    first = c.execute_fast_reset(action="initiateDatabaseReset")
    assert first["status"] == "200 OK"
    token = first["payload"]["token"]
    newer = c.execute_fast_reset(action="initiateDatabaseReset")["payload"]["token"]
    with pytest.raises(c.exceptions.InvalidParameterException) as e:
        c.execute_fast_reset(action="performDatabaseReset", token=token)
    assert "does not match database reset token" in e.value.response["detailedMessage"]
    done = c.execute_fast_reset(action="performDatabaseReset", token=newer)
    assert done["status"] == "200 OK"
    assert q(c, "MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
    assert c.get_propertygraph_summary()["payload"]["graphSummary"]["numNodes"] == 0
    s.stop()
    c = start_server(data_dir=tmp_path / "db").client()
    assert q(c, "MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
    assert c.get_propertygraph_summary()["payload"]["graphSummary"]["nodeLabels"] == []


def raw(server, path, data=None, headers=None):
    req = urllib.request.Request(server.url + path, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_text_that_is_not_utf8_is_a_bad_request(start_server):
    s = start_server()
    status, body = raw(s, "/openCypher?query=RETURN%20%27%FF%27%20AS%20x")
    assert status == 400 and json.loads(body)["code"] == "BadRequestException"
    status, body = raw(s, "/openCypher", b"query=RETURN+%27%E9%27",
                       {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and json.loads(body)["code"] == "BadRequestException"
    status, body = raw(s, "/openCypher", "RETURN 'é' AS x".encode("latin-1"),
                       {"Content-Type": "application/opencypher"})
    assert status == 400 and json.loads(body)["code"] == "BadRequestException"
    status, body = raw(s, "/openCypher?query=RETURN%20%27%C3%A9%27%20AS%20x")
    assert status == 200 and json.loads(body) == {"results": [{"x": "é"}]}
