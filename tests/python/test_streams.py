"""Neptune Streams (`GET /propertygraph/stream`, `/pg/stream`) with the real boto3 client
(`get_propertygraph_stream`) against the built binary: streams off, every record kind, every
iterator type, paging, bad parameters, gzip, retention, restart, SIGKILL during concurrent
writers, fast reset, the bulk loader (API and offline), IAM, and a consumer that polls with
AFTER_SEQUENCE_NUMBER while writers run and rebuilds the same graph."""

import gzip
import json
import random
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import BINARY, Server


def q(c, text, **parameters):
    args = {"openCypherQuery": text}
    if parameters:
        args["parameters"] = json.dumps(parameters)
    return c.execute_open_cypher_query(**args)["results"]


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def stream(c, **kw):
    return c.get_propertygraph_stream(**kw)


def everything(c, limit=100_000):
    """Every record from TRIM_HORIZON on, paging with AFTER_SEQUENCE_NUMBER; [] if none."""
    out = []
    try:
        page = stream(c, iteratorType="TRIM_HORIZON", limit=limit)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "StreamRecordsNotFoundException", e.response
        return out
    while True:
        out.extend(page["records"])
        last = page["lastEventId"]
        try:
            page = stream(c, iteratorType="AFTER_SEQUENCE_NUMBER", commitNum=last["commitNum"],
                          opNum=last["opNum"], limit=limit)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "StreamRecordsNotFoundException", e.response
            return out


def brief(r):
    """`op type id key value` of a record (plus `from->to` for an edge)."""
    d = r["data"]
    s = f'{r["op"]} {d["type"]} {d["id"]} {d["key"]} {d["value"]["value"]}'
    if d["type"] == "e":
        s += f' {d["from"]}->{d["to"]}'
    return s


def events(records):
    return [(r["eventId"]["commitNum"], r["eventId"]["opNum"]) for r in records]


@pytest.fixture(scope="module")
def streaming():
    s = Server("--workers", "4", "--streams")
    yield s
    s.stop()


def test_streams_off_is_neptunes_unsupported_operation(server, client):
    with pytest.raises(ClientError) as e:
        stream(client, iteratorType="TRIM_HORIZON")
    assert code(e) == "UnsupportedOperationException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "--streams" in e.value.response["detailedMessage"]


def test_every_record_kind_with_neptunes_shape(start_server):
    c = start_server("--streams").client()
    q(c, "CREATE (a:Person:Admin {`~id`: 'a', name: 'Ann', age: 31, tags: ['x', 'y']}), "
         "(b:Person {`~id`: 'b'}), (a)-[:KNOWS {`~id`: 'r', since: 2020, w: 0.5}]->(b)")
    q(c, "MATCH (a {`~id`: 'a'}) SET a.name = 'Anna', a:Vip REMOVE a:Admin, a.age")
    q(c, "MATCH ()-[r {`~id`: 'r'}]->() SET r.since = 2021 REMOVE r.w")
    q(c, "MATCH (a {`~id`: 'a'}) DETACH DELETE a")
    page = stream(c, iteratorType="TRIM_HORIZON", limit=1000)
    got = [(e, brief(r)) for e, r in zip(events(page["records"]), page["records"])]
    assert got == [
        ((1, 1), "ADD vl a label Person"),
        ((1, 2), "ADD vl a label Admin"),
        ((1, 3), "ADD vp a name Ann"),
        ((1, 4), "ADD vp a age 31"),
        ((1, 5), "ADD vp a tags x"),
        ((1, 6), "ADD vp a tags y"),
        ((1, 7), "ADD vl b label Person"),
        ((1, 8), "ADD e r label KNOWS a->b"),
        ((1, 9), "ADD ep r since 2020"),
        ((1, 10), "ADD ep r w 0.5"),
        ((2, 1), "REMOVE vp a name Ann"),
        ((2, 2), "ADD vp a name Anna"),
        ((2, 3), "ADD vl a label Vip"),
        ((2, 4), "REMOVE vl a label Admin"),
        ((2, 5), "REMOVE vp a age 31"),
        ((3, 1), "REMOVE ep r since 2020"),
        ((3, 2), "ADD ep r since 2021"),
        ((3, 3), "REMOVE ep r w 0.5"),
        ((4, 1), "REMOVE ep r since 2021"),
        ((4, 2), "REMOVE e r label KNOWS a->b"),
        ((4, 3), "REMOVE vp a name Anna"),
        ((4, 4), "REMOVE vp a tags x"),
        ((4, 5), "REMOVE vp a tags y"),
        ((4, 6), "REMOVE vl a label Person"),
        ((4, 7), "REMOVE vl a label Vip"),
    ], got
    assert page["format"] == "PG_JSON"
    assert page["totalRecords"] == 25 == len(page["records"])
    assert page["lastEventId"] == {"commitNum": 4, "opNum": 7}
    records = page["records"]
    # boto3 names the wire's commitTimestamp / lastTrxTimestamp ...InMillis.
    assert page["lastTrxTimestampInMillis"] == records[-1]["commitTimestampInMillis"]
    assert abs(records[0]["commitTimestampInMillis"] / 1000 - time.time()) < 60
    assert [events([r])[0] for r in records if r.get("isLastOp")] == [(1, 10), (2, 5), (3, 3), (4, 7)]
    assert all("isLastOp" not in r for r in records if not r.get("isLastOp"))
    types = {brief(r).split()[3]: r["data"]["value"]["dataType"] for r in records if r["data"]["type"] in ("vp", "ep")}
    assert types == {"age": "Long", "name": "String", "tags": "String", "since": "Long", "w": "Double"}
    e = records[7]["data"]
    assert (e["from"], e["to"]) == ("a", "b")
    assert "from" not in records[0]["data"]


def test_every_iterator_type_and_paging_with_limit(streaming):
    c = streaming.client()
    q(c, "MATCH (n) DETACH DELETE n")
    start = everything(c)
    base = start[-1]["eventId"]["commitNum"] if start else 0
    for i in range(5):
        q(c, "UNWIND range(1, $n) AS k CREATE (:Item {batch: $i, k: k})", n=i + 1, i=i)
    records = everything(c)[len(start):]
    assert [r["eventId"]["commitNum"] - base for r in records if r["eventId"]["opNum"] == 1] == [1, 2, 3, 4, 5]
    first = (base + 3, 1)
    # AT_SEQUENCE_NUMBER is the default iterator; opNum defaults to 1.
    at = stream(c, commitNum=first[0], limit=2)
    assert events(at["records"]) == [(base + 3, 1), (base + 3, 2)]
    assert at["lastEventId"] == {"commitNum": base + 3, "opNum": 2}
    at = stream(c, iteratorType="AT_SEQUENCE_NUMBER", commitNum=base + 3, opNum=4, limit=3)
    assert events(at["records"]) == [(base + 3, 4), (base + 3, 5), (base + 3, 6)]
    after = stream(c, iteratorType="AFTER_SEQUENCE_NUMBER", commitNum=base + 3, opNum=9, limit=1)
    assert events(after["records"]) == [(base + 4, 1)]
    latest = stream(c, iteratorType="LATEST", limit=100)
    assert latest["totalRecords"] == 1
    assert latest["records"][0] == records[-1] and records[-1]["isLastOp"] is True
    horizon = stream(c, iteratorType="TRIM_HORIZON", limit=1)
    assert events(horizon["records"]) == [(1, 1)]
    # Paging with any limit reads each record once.
    for limit in (1, 4, 7):
        assert everything(c, limit=limit)[len(start):] == records, limit
    # Past the end: 404 naming the last event, as Neptune's message does (tools parse it).
    last = records[-1]["eventId"]
    for kw in ({"commitNum": last["commitNum"] + 1},
               {"iteratorType": "AFTER_SEQUENCE_NUMBER", "commitNum": last["commitNum"], "opNum": last["opNum"]}):
        with pytest.raises(ClientError) as e:
            stream(c, **kw)
        assert code(e) == "StreamRecordsNotFoundException"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert f'[commitNum = {last["commitNum"]}, opNum = {last["opNum"]}]' in e.value.response["detailedMessage"]
    # The plain HTTPS alias /pg/stream answers the same.
    with urllib.request.urlopen(f"{streaming.url}/pg/stream?iteratorType=LATEST") as r:
        raw = json.loads(r.read())
    assert raw["lastEventId"] == latest["lastEventId"]
    assert raw["records"][0]["commitTimestamp"] == latest["records"][0]["commitTimestampInMillis"]


def test_bad_parameters_are_invalid_parameter_exceptions(streaming):
    c = streaming.client()
    for kw, needle in [
        ({"iteratorType": "BOGUS"}, "iteratorType"),
        ({"iteratorType": "AT_SEQUENCE_NUMBER"}, "commitNum"),
        ({"iteratorType": "AFTER_SEQUENCE_NUMBER"}, "commitNum"),
        ({"commitNum": -1}, "commitNum"),
        ({"commitNum": 1, "limit": 100_001}, "limit"),
    ]:
        with pytest.raises(ClientError) as e:
            stream(c, **kw)
        assert code(e) == "InvalidParameterException", kw
        assert needle in e.value.response["detailedMessage"], (kw, e.value.response)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(urllib.request.Request(f"{streaming.url}/propertygraph/stream", method="POST", data=b""))
    assert e.value.code == 405


def test_gzip_when_asked_and_boto3_still_parses(streaming):
    c = streaming.client()
    q(c, "UNWIND range(1, 200) AS i CREATE (:Zip {i: i, text: 'some repeated text'})")
    url = f"{streaming.url}/propertygraph/stream?iteratorType=TRIM_HORIZON&limit=500"
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        raw = r.read()
    zipped = json.loads(gzip.decompress(raw))
    with urllib.request.urlopen(url) as r:
        assert r.headers.get("Content-Encoding") is None
        plain = r.read()
    assert zipped == json.loads(plain)
    assert len(raw) * 4 < len(plain)
    # botocore sends Accept-Encoding: gzip for encoding="gzip" but cannot decode the body:
    # it gets identity and parses it.
    page = stream(c, iteratorType="TRIM_HORIZON", limit=500, encoding="gzip")
    assert [(r["eventId"], r["data"]) for r in page["records"]] == [(r["eventId"], r["data"]) for r in zipped["records"]]


def test_retention_expires_old_records(start_server):
    # 0.00002 days = 1.7 s.
    c = start_server("--streams", "--streams-expiry-days", "0.00002").client()
    q(c, "CREATE (:Old)")
    time.sleep(2.2)
    q(c, "CREATE (:New)")
    with pytest.raises(ClientError) as e:
        stream(c, commitNum=1)
    assert code(e) == "ExpiredStreamException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    page = stream(c, iteratorType="TRIM_HORIZON")
    assert [brief(r).split()[-1] for r in page["records"]] == ["New"]
    assert events(page["records"]) == [(2, 1)]


def test_records_survive_restarts_and_checkpoints(start_server, tmp_path):
    db = tmp_path / "db"
    s = start_server("--streams", data_dir=db)
    c = s.client()
    for i in range(20):
        q(c, "CREATE (:P {i: $i})", i=i)
    before = everything(c)
    assert len(before) == 40
    s.stop()
    # Without --streams the route is off; nothing is lost meanwhile.
    s = start_server(data_dir=db)
    with pytest.raises(ClientError) as e:
        stream(s.client(), iteratorType="TRIM_HORIZON")
    assert code(e) == "UnsupportedOperationException"
    s.stop()
    s = start_server("--streams", data_dir=db)
    c = s.client()
    assert everything(c) == before
    q(c, "CREATE (:P {i: 20})")
    after = everything(c)
    assert after[:40] == before
    assert events(after[40:]) == [(21, 1), (21, 2)]


def test_sigkill_loses_no_acknowledged_commit_and_shows_no_rolled_back_one(start_server, tmp_path):
    db = tmp_path / "db"
    s = start_server("--streams", "--workers", "4", data_dir=db)
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def writer(w):
        c = s.client()
        i = 0
        while not stop.is_set():
            node = f"w{w}-{i}"
            try:
                q(c, "CREATE (:K {`~id`: $id, w: $w, i: $i})", id=node, w=w, i=i)
            except Exception:
                return  # the server is gone
            with lock:
                acked.append(node)
            try:  # always rolled back: its node must never appear
                q(c, "CREATE (:Bad {`~id`: $id}) WITH 1 AS one RETURN 1 / 0 AS boom", id=f"bad-{node}")
            except ClientError:
                pass
            except Exception:
                return
            i += 1

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    stop.set()
    for t in threads:
        t.join(10)
    with lock:
        acked = list(acked)
    assert len(acked) > 20

    c = start_server("--streams", data_dir=db).client()
    records = everything(c)
    streamed = [r["data"]["id"] for r in records if r["data"]["type"] == "vl"]
    assert not [n for n in streamed if n.startswith("bad-")]
    missing = set(acked) - set(streamed)
    assert not missing, f"{len(missing)} acknowledged commits are not in the stream"
    # One commit per created node, numbered 1, 2, … in order; the stream is the graph.
    assert events([r for r in records if r["eventId"]["opNum"] == 1]) == [(i + 1, 1) for i in range(len(streamed))]
    assert len(set(streamed)) == len(streamed)
    in_graph = {r["id"] for r in q(c, "MATCH (n) RETURN id(n) AS id")}
    assert in_graph == set(streamed)
    # Writing goes on after the restart with the next commit number.
    q(c, "CREATE (:K {`~id`: 'after'})")
    assert stream(c, iteratorType="LATEST")["records"][0]["eventId"]["commitNum"] == len(streamed) + 1


def test_fast_reset_clears_the_stream(start_server, tmp_path):
    c = start_server("--streams", data_dir=tmp_path / "db").client()
    q(c, "CREATE (:A {x: 1}), (:B)")
    last = stream(c, iteratorType="LATEST")["lastEventId"]
    assert last == {"commitNum": 1, "opNum": 3}
    token = c.execute_fast_reset(action="initiateDatabaseReset")["payload"]["token"]
    c.execute_fast_reset(action="performDatabaseReset", token=token)
    with pytest.raises(ClientError) as e:
        stream(c, iteratorType="TRIM_HORIZON")
    assert code(e) == "StreamRecordsNotFoundException"
    with pytest.raises(ClientError) as e:
        stream(c, commitNum=1)
    assert code(e) == "ExpiredStreamException"
    q(c, "CREATE (:C)")
    # A consumer that had read everything continues with the new graph's first change.
    page = stream(c, iteratorType="AFTER_SEQUENCE_NUMBER", commitNum=1, opNum=3)
    assert [brief(r).split()[-1] for r in page["records"]] == ["C"]
    assert events(page["records"]) == [(2, 1)]
    assert everything(c) == page["records"]


def write_people(folder, n):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "people.csv").write_text(
        ":ID,name:String,age:Int,:LABEL\n" + "".join(f"p{i},name {i},{i % 90},Person\n" for i in range(n)))
    (folder / "knows.csv").write_text(
        ":ID,:START_ID,:END_ID,:TYPE,w:Double\n" + "".join(f"r{i},p{i},p{(i + 1) % n},KNOWS,{i / 4}\n" for i in range(n)))


def test_the_bulk_loaders_commits_appear(start_server, tmp_path):
    load = tmp_path / "load"
    write_people(load / "people", 300)
    s = start_server("--streams", "--load-dir", str(load), data_dir=tmp_path / "db")
    c = s.client()
    load_id = c.start_loader_job(source=str(load / "people"), format="opencypher", s3BucketRegion="us-east-1",
                                 iamRoleArn="arn:aws:iam::123456789012:role/x")["payload"]["loadId"]
    deadline = time.monotonic() + 60
    while c.get_loader_job_status(loadId=load_id)["payload"]["overallStatus"]["status"] != "LOAD_COMPLETED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    records = everything(c)
    kinds = {}
    for r in records:
        kinds[(r["op"], r["data"]["type"])] = kinds.get((r["op"], r["data"]["type"]), 0) + 1
    assert kinds == {("ADD", "vl"): 300, ("ADD", "vp"): 600, ("ADD", "e"): 300, ("ADD", "ep"): 300}
    edge = next(r["data"] for r in records if r["data"]["id"] == "r7")
    assert (edge["from"], edge["to"], edge["value"]["value"]) == ("p7", "p8", "KNOWS")
    s.stop()

    # The offline loader with --streams records into the same stream, numbering on.
    write_people(load / "more", 10)
    (load / "more" / "knows.csv").unlink()
    for path in (load / "more").glob("*.csv"):
        path.write_text(path.read_text().replace("p", "q"))
    out = subprocess.run([str(BINARY), "load", "--data-dir", str(tmp_path / "db"), "--source", str(load / "more"),
                          "--streams"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    c = start_server("--streams", data_dir=tmp_path / "db").client()
    again = everything(c)
    assert again[:len(records)] == records
    added = again[len(records):]
    assert {r["data"]["id"] for r in added} == {f"q{i}" for i in range(10)}
    assert added[0]["eventId"]["commitNum"] == records[-1]["eventId"]["commitNum"] + 1


def test_iam_needs_get_stream_records(tmp_path):
    users = [
        {"name": "streamer", "accessKeyId": "AKIDSTREAMER", "secretAccessKey": "s-secret",
         "policy": {"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow", "Action": ["neptune-db:GetStreamRecords", "neptune-db:*DataViaQuery"], "Resource": "*"}]}},
        {"name": "querier", "accessKeyId": "AKIDQUERIER", "secretAccessKey": "q-secret",
         "policy": {"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow", "Action": ["neptune-db:*DataViaQuery"], "Resource": "*"}]}},
    ]
    config = tmp_path / "iam.json"
    config.write_text(json.dumps({"region": "us-east-1", "users": users}))
    s = Server("--streams", "--auth", "iam", "--iam-config", str(config))
    try:
        def client(key, secret):
            return boto3.client("neptunedata", endpoint_url=s.url, region_name="us-east-1",
                                aws_access_key_id=key, aws_secret_access_key=secret,
                                config=Config(retries={"total_max_attempts": 1}))
        streamer, querier = client("AKIDSTREAMER", "s-secret"), client("AKIDQUERIER", "q-secret")
        q(querier, "CREATE (:Seen)")
        assert stream(streamer, iteratorType="LATEST")["records"][0]["data"]["value"]["value"] == "Seen"
        with pytest.raises(ClientError) as e:
            stream(querier, iteratorType="LATEST")
        assert code(e) == "AccessDeniedException"
    finally:
        s.stop()


class Model:
    """A graph rebuilt from stream records alone."""

    def __init__(self):
        self.nodes = {}  # id -> {"labels": set, "props": dict}
        self.rels = {}  # id -> {"type", "from", "to", "props"}

    def apply(self, r):
        d, add = r["data"], r["op"] == "ADD"
        v = d["value"]["value"]
        if d["type"] == "vl":
            n = self.nodes.setdefault(d["id"], {"labels": set(), "props": {}})
            (n["labels"].add if add else n["labels"].discard)(v)
        elif d["type"] == "vp":
            n = self.nodes.setdefault(d["id"], {"labels": set(), "props": {}})
            if add:
                n["props"][d["key"]] = v
            else:
                assert n["props"].pop(d["key"]) == v, r
        elif d["type"] == "e":
            if add:
                self.rels[d["id"]] = {"type": v, "from": d["from"], "to": d["to"], "props": {}}
            else:
                del self.rels[d["id"]]
        else:
            rel = self.rels[d["id"]]
            if add:
                rel["props"][d["key"]] = v
            else:
                assert rel["props"].pop(d["key"]) == v, r

    def graph(self):
        nodes = {k: (sorted(n["labels"]), n["props"]) for k, n in self.nodes.items() if n["labels"] or n["props"]}
        rels = {k: (r["type"], r["from"], r["to"], r["props"]) for k, r in self.rels.items()}
        return nodes, rels


def test_a_consumer_polling_after_sequence_number_rebuilds_the_graph_of_concurrent_writers(start_server, tmp_path):
    s = start_server("--streams", "--workers", "4", data_dir=tmp_path / "db")
    stop = threading.Event()
    errors = []

    def writer(w):
        c = s.client()
        rnd = random.Random(w)
        mine = []
        for i in range(120):
            try:
                op = rnd.random()
                if op < 0.35 or len(mine) < 3:
                    node = f"w{w}n{i}"
                    q(c, "CREATE (:Person {`~id`: $id, name: $name, n: 0})", id=node, name=f"name {i}")
                    mine.append(node)
                elif op < 0.5:
                    q(c, "MATCH (n {`~id`: $id}) SET n.n = n.n + 1, n.tag = $tag", id=rnd.choice(mine), tag=f"t{i}")
                elif op < 0.6:
                    q(c, "MATCH (n {`~id`: $id}) SET n:Extra", id=rnd.choice(mine))
                elif op < 0.65:
                    q(c, "MATCH (n {`~id`: $id}) REMOVE n:Extra, n.tag", id=rnd.choice(mine))
                elif op < 0.85:
                    a, b = rnd.choice(mine), f"w{rnd.randrange(4)}n{rnd.randrange(i + 1)}"
                    q(c, "MATCH (a {`~id`: $a}), (b {`~id`: $b}) CREATE (a)-[:LINK {w: $w}]->(b)", a=a, b=b, w=i / 8)
                elif op < 0.92:
                    q(c, "MATCH (a {`~id`: $a})-[r:LINK]->() WITH r LIMIT 1 SET r.w = r.w + 1, r.seen = true", a=rnd.choice(mine))
                elif op < 0.96:
                    q(c, "MATCH (a {`~id`: $a})-[r:LINK]->() WITH r LIMIT 1 DELETE r", a=rnd.choice(mine))
                else:
                    gone = mine.pop(rnd.randrange(len(mine)))
                    q(c, "MATCH (n {`~id`: $id}) DETACH DELETE n", id=gone)
            except Exception as e:  # reported by the test
                errors.append(repr(e))
                return

    model, seen = Model(), []

    def consumer():
        c = s.client()
        last = None
        while True:
            finished = stop.is_set()
            try:
                if last is None:
                    page = stream(c, iteratorType="TRIM_HORIZON", limit=50)
                else:
                    page = stream(c, iteratorType="AFTER_SEQUENCE_NUMBER", commitNum=last["commitNum"],
                                  opNum=last["opNum"], limit=50)
            except ClientError as e:
                if e.response["Error"]["Code"] != "StreamRecordsNotFoundException":
                    errors.append(repr(e))
                    return
                if finished:
                    return  # caught up after the writers stopped
                time.sleep(0.01)
                continue
            for r in page["records"]:
                seen.append((r["eventId"]["commitNum"], r["eventId"]["opNum"]))
                model.apply(r)
            last = page["lastEventId"]

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    reader = threading.Thread(target=consumer)
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join(120)
    stop.set()
    reader.join(60)
    assert not errors, errors[:5]
    # Exactly once, in order, no gaps in commit numbers.
    assert seen == sorted(set(seen))
    commits = sorted({c for c, _ in seen})
    assert commits == list(range(1, len(commits) + 1))

    c = s.client()
    nodes = {r["id"]: (sorted(r["labels"]), r["props"])
             for r in q(c, "MATCH (n) RETURN id(n) AS id, labels(n) AS labels, properties(n) AS props")}
    rels = {r["id"]: (r["type"], r["from"], r["to"], r["props"])
            for r in q(c, "MATCH (a)-[r]->(b) RETURN id(r) AS id, type(r) AS type, id(a) AS from, id(b) AS to, "
                          "properties(r) AS props")}
    rebuilt_nodes, rebuilt_rels = model.graph()
    assert len(nodes) > 50 and len(rels) > 20, (len(nodes), len(rels))
    assert rebuilt_nodes == nodes
    assert rebuilt_rels == rels


def test_sigkill_during_a_bulk_load_leaves_the_stream_equal_to_the_committed_batches(start_server, tmp_path):
    load = tmp_path / "load"
    n = 300_000
    write_people(load / "big", n)
    db = tmp_path / "db"
    s = start_server("--streams", "--load-dir", str(load), data_dir=db)
    c = s.client()
    load_id = c.start_loader_job(source=str(load / "big"), format="opencypher", s3BucketRegion="us-east-1",
                                 iamRoleArn="arn:aws:iam::123456789012:role/x")["payload"]["loadId"]
    deadline = time.monotonic() + 60
    while c.get_loader_job_status(loadId=load_id)["payload"]["overallStatus"]["totalRecords"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()

    c = start_server("--streams", data_dir=db).client()
    nodes = q(c, "MATCH (n) RETURN count(n) AS n")[0]["n"]
    rels = q(c, "MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    assert 0 < nodes + rels < 2 * n
    counts = {"vl": 0, "e": 0}
    last = None
    page = stream(c, iteratorType="TRIM_HORIZON", limit=100_000)
    while True:
        for r in page["records"]:
            if r["data"]["type"] in counts:
                counts[r["data"]["type"]] += 1
        last = page["lastEventId"]
        try:
            page = stream(c, iteratorType="AFTER_SEQUENCE_NUMBER", commitNum=last["commitNum"],
                          opNum=last["opNum"], limit=100_000)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "StreamRecordsNotFoundException"
            break
    # Every committed batch is in the stream, whole, and nothing of the batch cut short.
    assert counts == {"vl": nodes, "e": rels}, (counts, nodes, rels)
