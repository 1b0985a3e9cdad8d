"""The bulk loader (`/loader`) with the real boto3 client, graph-notebook's client and plain
HTTP: openCypher CSV and Gremlin CSV folders loaded into a durable database, the status
payload's counts and error logs, list, cancel, the queue and dependencies, the load
directory's confinement, read-only refusal, and a SIGKILL in the middle of a load followed by
a restart and a RESUME that finishes it with no duplicates."""

import gzip
import json
import signal
import time
import urllib.parse
import urllib.request

import pytest
from botocore.exceptions import ClientError

ARGS = {"iamRoleArn": "arn:aws:iam::123456789012:role/NeptuneLoadFromS3", "s3BucketRegion": "us-east-1"}
FINAL_WAIT = 60.0


def q(c, text):
    return c.execute_open_cypher_query(openCypherQuery=text)["results"]


def start(c, source, fmt="opencypher", **options):
    out = c.start_loader_job(source=str(source), format=fmt, **ARGS, **options)
    assert out["status"] == "200 OK"
    return out["payload"]["loadId"]


def wait(c, load_id, timeout=FINAL_WAIT, **flags):
    """Polls GetLoaderJobStatus until the job is no longer queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        payload = c.get_loader_job_status(loadId=load_id, **flags)["payload"]
        status = payload["overallStatus"]["status"]
        if status not in ("LOAD_NOT_STARTED", "LOAD_IN_PROGRESS", "LOAD_IN_QUEUE"):
            return payload
        assert time.monotonic() < deadline, f"load {load_id} still {status}"
        time.sleep(0.05)


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def write_people(folder, n, rels=True):
    """n Person nodes p0..p(n-1) and, when asked, n KNOWS relationships r0..r(n-1)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "people.csv", "w") as f:
        f.write(":ID,name:String,age:Int,:LABEL\n")
        for i in range(n):
            f.write(f"p{i},name {i},{i % 90},Person\n")
    if rels:
        with open(folder / "knows.csv", "w") as f:
            f.write(":ID,:START_ID,:END_ID,:TYPE,w:Double\n")
            for i in range(n):
                f.write(f"r{i},p{i},p{(i * 7 + 1) % n},KNOWS,{i / 4}\n")


@pytest.fixture
def load_dir(tmp_path):
    d = tmp_path / "load"
    d.mkdir()
    return d


def test_opencypher_folder_loads_with_types_labels_and_ids(start_server, tmp_path, load_dir):
    src = load_dir / "air"
    src.mkdir()
    (src / "airports.csv").write_text(
        ":ID,code:String,elev:Int,lat:Double,open:Bool,tags:String[],since:DateTime,:LABEL\n"
        'a1,SEA,433,47.44,true,"pnw;big",2020-01-02T03:04:05Z,Airport\n'
        'a2,"PDX, OR",31,45.58,false,,,Airport;Hub\n'
        "a3,BLI,,48.79,true,small,,Airport\n"
    )
    with gzip.open(src / "routes.csv.gz", "wt") as f:
        f.write(":ID,:START_ID,:END_ID,:TYPE,dist:Int\n")
        f.write("e1,a1,a2,ROUTE,129\ne2,a2,a1,ROUTE,129\ne3,a1,a3,ROUTE,80\n")
    s = start_server("--load-dir", str(load_dir), data_dir=tmp_path / "db")
    c = s.client()
    load_id = start(c, src)
    payload = wait(c, load_id)
    overall = payload["overallStatus"]
    assert overall["status"] == "LOAD_COMPLETED", payload
    assert overall["totalRecords"] == 6
    assert overall["totalDuplicates"] == 0
    assert overall["parsingErrors"] == overall["datatypeMismatchErrors"] == overall["insertErrors"] == 0
    assert overall["fullUri"] == src.as_uri()
    assert isinstance(overall["startTime"], int) and overall["startTime"] > 1_700_000_000
    assert payload["feedCount"] == [{"LOAD_COMPLETED": 2}]

    rows = q(c, "MATCH (a:Airport) RETURN id(a) AS id, labels(a) AS l, a.code AS code, a.elev AS elev, "
                "a.lat AS lat, a.open AS open, a.tags AS tags, a.since AS since ORDER BY id")
    assert rows == [
        {"id": "a1", "l": ["Airport"], "code": "SEA", "elev": 433, "lat": 47.44, "open": True,
         "tags": ["pnw", "big"], "since": "2020-01-02T03:04:05Z"},
        {"id": "a2", "l": sorted(["Airport", "Hub"]), "code": "PDX, OR", "elev": 31, "lat": 45.58,
         "open": False, "tags": None, "since": None},
        {"id": "a3", "l": ["Airport"], "code": "BLI", "elev": None, "lat": 48.79, "open": True,
         "tags": ["small"], "since": None},
    ]
    rows = q(c, "MATCH (a)-[r:ROUTE]->(b) RETURN id(r) AS id, id(a) AS a, id(b) AS b, r.dist AS d ORDER BY id")
    assert rows == [{"id": "e1", "a": "a1", "b": "a2", "d": 129}, {"id": "e2", "a": "a2", "b": "a1", "d": 129},
                    {"id": "e3", "a": "a1", "b": "a3", "d": 80}]

    listed = c.list_loader_jobs()["payload"]["loadIds"]
    assert listed == [load_id]

    # Durable: after a restart the data and the job's status are still there.
    s.stop()
    s = start_server("--load-dir", str(load_dir), data_dir=tmp_path / "db")
    c = s.client()
    assert q(c, "MATCH (n) RETURN count(n) AS n")[0]["n"] == 3
    assert c.get_loader_job_status(loadId=load_id)["payload"]["overallStatus"]["status"] == "LOAD_COMPLETED"


def test_gremlin_csv_loads_air_routes_style_files(start_server, load_dir):
    src = load_dir / "gremlin"
    src.mkdir()
    (src / "vertices.csv").write_text(
        "~id,~label,code:String,runways:Int,names:String[]\n"
        "1,airport,AUS,2,Austin;Bergstrom\n"
        "2,airport,DFW,7,\n"
        "3,country,US,,\n"
    )
    (src / "edges.csv").write_text("~id,~from,~to,~label,dist:Int\n100,1,2,route,190\n101,3,1,contains,\n")
    c = start_server("--load-dir", str(load_dir)).client()
    payload = wait(c, start(c, src, fmt="csv"))
    assert payload["overallStatus"]["status"] == "LOAD_COMPLETED", payload
    assert payload["overallStatus"]["totalRecords"] == 5
    assert q(c, "MATCH (a:airport) RETURN id(a) AS id, a.code AS code, a.runways AS r ORDER BY id") == [
        {"id": "1", "code": "AUS", "r": 2}, {"id": "2", "code": "DFW", "r": 7}]
    assert q(c, "MATCH (:country)-[e:contains]->(a) RETURN id(e) AS e, a.code AS code") == [
        {"e": "101", "code": "AUS"}]


def test_bad_records_are_counted_and_logged_with_their_record_number(start_server, load_dir):
    src = load_dir / "bad"
    src.mkdir()
    (src / "nodes.csv").write_text(
        ":ID,name:String,age:Int,:LABEL\n"
        "p1,Alice,30,Person\n"
        "p2,Bob,not-a-number,Person\n"
        "p1,Again,31,Person\n"
        "p3,Carol,33,Person\n"
    )
    (src / "rels.csv").write_text(":ID,:START_ID,:END_ID,:TYPE\nr1,p1,p3,KNOWS\nr2,p1,nobody,KNOWS\n")
    c = start_server("--load-dir", str(load_dir)).client()
    payload = wait(c, start(c, src, failOnError=False), details=True, errors=True, errorsPerPage=1)
    overall = payload["overallStatus"]
    assert overall["status"] == "LOAD_FAILED"
    assert (overall["totalRecords"], overall["totalDuplicates"], overall["datatypeMismatchErrors"],
            overall["insertErrors"]) == (6, 1, 1, 1)
    # Without failOnError every good record is in: the first p1 is kept.
    assert q(c, "MATCH (p:Person) RETURN id(p) AS id, p.name AS name ORDER BY id") == [
        {"id": "p1", "name": "Alice"}, {"id": "p3", "name": "Carol"}]
    assert q(c, "MATCH ()-[r]->() RETURN id(r) AS id") == [{"id": "r1"}]
    assert {f["fullUri"].rsplit("/", 1)[1] for f in payload["failedFeeds"]} == {"nodes.csv", "rels.csv"}
    # Paged error logs: one per page, file name and record number a person can act on.
    first = payload["errors"]
    assert (first["startIndex"], first["endIndex"]) == (1, 1) and len(first["errorLogs"]) == 1
    log = first["errorLogs"][0]
    assert log["errorCode"] == "DATATYPE_MISMATCH" and log["recordNum"] == 2
    assert log["fileName"].endswith("/nodes.csv") and "not-a-number" in log["errorMessage"]
    second = c.get_loader_job_status(loadId=first["loadId"], errors=True, page=2, errorsPerPage=1)
    log = second["payload"]["errors"]["errorLogs"][0]
    assert log["errorCode"] == "INSERT_ERROR" and log["recordNum"] == 2 and "nobody" in log["errorMessage"]

    # failOnError (the default) stops at the first bad record, after committing what came before.
    c2 = start_server("--load-dir", str(load_dir)).client()
    payload = wait(c2, start(c2, src))
    assert payload["overallStatus"]["status"] == "LOAD_FAILED"
    assert payload["overallStatus"]["datatypeMismatchErrors"] == 1
    assert payload["overallStatus"]["insertErrors"] == 0


def test_sources_are_confined_to_the_load_directory(start_server, tmp_path, load_dir):
    outside = tmp_path / "outside"
    write_people(outside, 3, rels=False)
    c = start_server("--load-dir", str(load_dir)).client()
    for source in [outside, load_dir / ".." / "outside", "/etc/passwd", f"file://{outside}"]:
        with pytest.raises(ClientError) as e:
            start(c, source)
        assert error_code(e) == "BadRequestException"
        assert "outside the load directory" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        start(c, "s3://bucket/key")
    assert error_code(e) == "BadRequestException" and "--load-dir" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        start(c, load_dir, fmt="turtle")
    assert error_code(e) == "BadRequestException"
    with pytest.raises(ClientError) as e:
        c.get_loader_job_status(loadId="no-such-load")
    assert error_code(e) == "BulkLoadIdNotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert q(c, "MATCH (n) RETURN count(n) AS n")[0]["n"] == 0

    # A server without --load-dir refuses every local source; a read-only one every load.
    c = start_server().client()
    with pytest.raises(ClientError) as e:
        start(c, load_dir)
    assert error_code(e) == "BadRequestException" and "--load-dir" in e.value.response["Error"]["Message"]
    c = start_server("--load-dir", str(load_dir), "--read-only").client()
    with pytest.raises(ClientError) as e:
        start(c, load_dir)
    assert error_code(e) == "ReadOnlyViolationException"


def test_queue_dependencies_and_cancel(start_server, load_dir):
    write_people(load_dir / "big", 400_000)
    write_people(load_dir / "small", 10, rels=False)
    s = start_server("--load-dir", str(load_dir))
    c = s.client()
    running = start(c, load_dir / "big")
    # A second load while one runs: refused unless it asks to be queued.
    with pytest.raises(ClientError) as e:
        start(c, load_dir / "small")
    assert error_code(e) == "BadRequestException"
    assert "Max concurrent load limit breached" in e.value.response["Error"]["Message"]
    queued = start(c, load_dir / "small", queueRequest=True)
    dependent = start(c, load_dir / "small", queueRequest=True, dependencies=[queued], mode="NEW")
    assert c.get_loader_job_status(loadId=queued)["payload"]["overallStatus"]["status"] == "LOAD_IN_QUEUE"
    assert c.list_loader_jobs(includeQueuedLoads=False)["payload"]["loadIds"] == [running]
    assert set(c.list_loader_jobs()["payload"]["loadIds"]) == {running, queued, dependent}
    assert c.list_loader_jobs(limit=1)["payload"]["loadIds"] == [dependent]

    # Cancelling the queued job fails the one that depends on it.
    assert c.cancel_loader_job(loadId=queued)["status"] == "200 OK"
    c.cancel_loader_job(loadId=running)
    assert wait(c, running)["overallStatus"]["status"] == "LOAD_CANCELLED_BY_USER"
    assert wait(c, queued)["overallStatus"]["status"] == "LOAD_CANCELLED_BY_USER"
    assert wait(c, dependent)["overallStatus"]["status"] == "LOAD_FAILED_BECAUSE_DEPENDENCY_NOT_SATISFIED"
    # The cancelled load left only whole batches: every relationship has both ends.
    nodes = q(c, "MATCH (n) RETURN count(n) AS n")[0]["n"]
    assert nodes < 400_000 or q(c, "MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"] < 400_000

    # Plain HTTP as in Neptune's documentation: a form body, the query-string forms.
    body = urllib.parse.urlencode({"source": str(load_dir / "small"), "format": "opencypher",
                                   "mode": "NEW", "failOnError": "TRUE"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{s.url}/loader", data=body)) as r:
        load_id = json.load(r)["payload"]["loadId"]
    wait(c, load_id)
    with urllib.request.urlopen(f"{s.url}/loader?loadId={load_id}") as r:
        assert json.load(r)["payload"]["overallStatus"]["totalRecords"] == 10
    req = urllib.request.Request(f"{s.url}/loader?loadId={load_id}", method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)  # finished: nothing to cancel
    assert e.value.code == 404
    assert json.load(e.value)["code"] == "BulkLoadIdNotFoundException"


def test_graph_notebook_load_and_status(start_server, load_dir):
    from graph_notebook.neptune.client import Client

    write_people(load_dir / "nb", 50)
    s = start_server("--load-dir", str(load_dir))
    host, port = s.addr.rsplit(":", 1)
    client = Client(host=host, port=int(port), ssl=False, neptune_hosts=[host])
    # As graph-notebook's %load magic calls it (JSON body, region from the client's config).
    res = client.load(str(load_dir / "nb"), "opencypher", "arn:aws:iam::1:role/r", mode="AUTO",
                      failOnError="TRUE", parallelism="HIGH", updateSingleCardinalityProperties="FALSE",
                      queueRequest="FALSE", userProvidedEdgeIds="TRUE")
    res.raise_for_status()
    load_id = res.json()["payload"]["loadId"]
    wait(s.client(), load_id)
    res = client.load_status(load_id, details="true", errors="true")
    res.raise_for_status()
    overall = res.json()["payload"]["overallStatus"]
    assert (overall["status"], overall["totalRecords"]) == ("LOAD_COMPLETED", 100)
    res = client.load_status()
    assert res.json()["payload"]["loadIds"] == [load_id]
    assert client.cancel_load(load_id).status_code == 404  # finished: not active
    client.close()


def test_sigkill_during_a_load_keeps_whole_batches_and_resume_finishes_it(start_server, tmp_path, load_dir):
    n = 600_000
    write_people(load_dir / "crash", n)
    db = tmp_path / "db"
    s = start_server("--load-dir", str(load_dir), data_dir=db)
    c = s.client()
    load_id = start(c, load_dir / "crash")
    deadline = time.monotonic() + FINAL_WAIT
    while True:  # kill once some batches are committed, before the end
        overall = c.get_loader_job_status(loadId=load_id)["payload"]["overallStatus"]
        assert overall["status"] == "LOAD_IN_PROGRESS" or overall["totalRecords"] == 0, overall
        if overall["totalRecords"] > 0:
            break
        assert time.monotonic() < deadline
        time.sleep(0.005)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()

    s = start_server("--load-dir", str(load_dir), data_dir=db)
    c = s.client()
    overall = c.get_loader_job_status(loadId=load_id)["payload"]["overallStatus"]
    assert overall["status"] == "LOAD_FAILED", overall
    nodes = q(c, "MATCH (n) RETURN count(n) AS n")[0]["n"]
    rels = q(c, "MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    # The status tells exactly what the graph holds, and that is less than the source.
    assert overall["totalRecords"] == nodes + rels < 2 * n, (overall, nodes, rels)

    payload = wait(c, start(c, load_dir / "crash", mode="RESUME"))
    assert payload["overallStatus"]["status"] == "LOAD_COMPLETED", payload
    assert payload["overallStatus"]["totalDuplicates"] == 0
    assert q(c, "MATCH (n) RETURN count(n) AS n, count(DISTINCT id(n)) AS d") == [{"n": n, "d": n}]
    assert q(c, "MATCH ()-[r]->() RETURN count(r) AS n, count(DISTINCT id(r)) AS d") == [{"n": n, "d": n}]
    assert q(c, "MATCH (a {name: 'name 12'})-[:KNOWS]->(b) RETURN id(b) AS b") == [{"b": "p85"}]


def test_offline_load_command_fills_a_stopped_database(start_server, tmp_path, load_dir):
    import subprocess

    from conftest import BINARY

    write_people(load_dir / "cli", 1000)
    db = tmp_path / "db"
    out = subprocess.run([str(BINARY), "load", "--data-dir", str(db), "--source", str(load_dir / "cli"),
                          "--format", "opencypher"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)["payload"]["overallStatus"]
    assert (status["status"], status["totalRecords"]) == ("LOAD_COMPLETED", 2000)
    assert "LOAD_COMPLETED: 2000 records" in out.stderr

    s = start_server(data_dir=db)
    c = s.client()
    assert q(c, "MATCH (a)-[r:KNOWS]->(b) RETURN count(r) AS n")[0]["n"] == 1000
    [load_id] = c.list_loader_jobs()["payload"]["loadIds"]
    assert c.get_loader_job_status(loadId=load_id)["payload"]["overallStatus"]["totalRecords"] == 2000
    # While a server has the database open, an offline load is refused and changes nothing.
    out = subprocess.run([str(BINARY), "load", "--data-dir", str(db), "--source", str(load_dir / "cli"),
                          "--mode", "NEW"], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "in use by another nereid process" in out.stderr
    # A bad file is reported with the API's figures and a failing exit status.
    (load_dir / "bad.csv").write_text(":ID,n:Int\nx,notanint\n")
    s.stop()
    out = subprocess.run([str(BINARY), "load", "--data-dir", str(db), "--source", str(load_dir / "bad.csv")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert json.loads(out.stdout)["payload"]["overallStatus"]["datatypeMismatchErrors"] == 1
