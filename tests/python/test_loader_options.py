"""Loader options that change what a load does, on local Gremlin CSV and openCypher files:
`updateSingleCardinalityProperties` (a different single-cardinality value for a vertex or
edge already in the graph is an error by default, and replaces the old value with TRUE) and
`edgeOnlyLoad` (no first pass over the headers: files load in source order)."""

import pytest
from botocore.exceptions import ClientError

from test_loader import error_code, q, start, wait


def vertices(folder, name, rows):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("~id,~label,name:String(single),age:Int(single),tag:String\n" + rows)


def edges(folder, name, rows):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("~id,~from,~to,~label,since:Int\n" + rows)


def test_single_cardinality_values_conflict_by_default_and_replace_with_the_option(start_server, tmp_path):
    load = tmp_path / "load"
    vertices(load / "first", "v.csv", "v1,person,Ann,40,a\nv2,person,Bob,,b\n")
    edges(load / "first", "e.csv", "e1,v1,v2,knows,2001\n")
    # v1: another name (a conflict); v2: the same name and no age (a duplicate); v3: new;
    # e1: another `since` (a conflict).
    vertices(load / "second", "v.csv", "v1,person,Anna,40,x\nv2,person,Bob,,y\nv3,person,Cy,7,c\n")
    edges(load / "second", "e.csv", "e1,v1,v2,knows,2002\n")
    vertices(load / "third", "v.csv", "v2,person,Bob,31,z\n")
    c = start_server("--load-dir", str(load)).client()
    assert wait(c, start(c, load / "first", fmt="csv"))["overallStatus"]["status"] == "LOAD_COMPLETED"

    # Default (FALSE): the different name and `since` are insert errors, logged; the rest loads.
    payload = wait(c, start(c, load / "second", fmt="csv", failOnError=False), errors=True)
    overall = payload["overallStatus"]
    assert overall["status"] == "LOAD_FAILED"
    assert (overall["totalRecords"], overall["insertErrors"], overall["totalDuplicates"]) == (4, 2, 1)
    messages = sorted(e["errorMessage"] for e in payload["errors"]["errorLogs"])
    assert "edge 'e1' already has since = 2001" in messages[0] and "updateSingleCardinalityProperties" in messages[0]
    assert "vertex 'v1' already has name = " in messages[1] and "Ann" in messages[1], messages
    assert [e["recordNum"] for e in payload["errors"]["errorLogs"] if e["fileName"].endswith("/v.csv")] == [1]
    assert q(c, "MATCH (n {`~id`: 'v1'}) RETURN n.name AS name") == [{"name": "Ann"}]
    assert q(c, "MATCH ()-[r]->() RETURN r.since AS s") == [{"s": 2001}]
    assert q(c, "MATCH (n {`~id`: 'v3'}) RETURN n.name AS name") == [{"name": "Cy"}]

    # A value the vertex does not have is added even without the option (no conflict).
    payload = wait(c, start(c, load / "third", fmt="csv"))
    assert payload["overallStatus"]["status"] == "LOAD_COMPLETED"
    assert payload["overallStatus"]["totalDuplicates"] == 0
    assert q(c, "MATCH (n {`~id`: 'v2'}) RETURN n.age AS age, n.tag AS tag") == [{"age": 31, "tag": "b"}]

    # TRUE: the file's values replace the old ones.
    payload = wait(c, start(c, load / "second", fmt="csv", mode="NEW",
                            updateSingleCardinalityProperties=True))
    overall = payload["overallStatus"]
    assert overall["status"] == "LOAD_COMPLETED", payload
    assert overall["insertErrors"] == 0
    assert q(c, "MATCH (n {`~id`: 'v1'}) RETURN n.name AS name, n.age AS age") == [{"name": "Anna", "age": 40}]
    assert q(c, "MATCH ()-[r]->() RETURN r.since AS s") == [{"s": 2002}]
    assert q(c, "MATCH (n) RETURN count(n) AS n") == [{"n": 3}]


def test_update_single_cardinality_is_refused_for_opencypher(start_server, tmp_path):
    load = tmp_path / "load"
    load.mkdir()
    (load / "n.csv").write_text(":ID,name:String\nn1,a\n")
    c = start_server("--load-dir", str(load)).client()
    with pytest.raises(ClientError) as e:
        start(c, load, updateSingleCardinalityProperties=True)
    assert error_code(e) == "BadRequestException"
    assert "not supported for openCypher" in e.value.response["Error"]["Message"]


def test_edge_only_load_skips_the_nodes_first_pass(start_server, tmp_path):
    load = tmp_path / "load"
    src = load / "g"
    src.mkdir(parents=True)
    # By name the relationship file comes first.
    (src / "a-rels.csv").write_text(":ID,:START_ID,:END_ID,:TYPE\nr1,n1,n2,K\n")
    (src / "b-nodes.csv").write_text(":ID,:LABEL\nn1,N\nn2,N\n")
    c = start_server("--load-dir", str(load)).client()
    payload = wait(c, start(c, src), details=True)
    assert payload["overallStatus"]["status"] == "LOAD_COMPLETED"
    assert q(c, "MATCH ()-[r:K]->() RETURN count(r) AS n") == [{"n": 1}]

    c = start_server("--load-dir", str(load)).client()
    payload = wait(c, start(c, src, edgeOnlyLoad=True, failOnError=False), errors=True)
    assert payload["overallStatus"]["insertErrors"] == 1
    (log,) = payload["errors"]["errorLogs"]
    assert log["fileName"].endswith("/a-rels.csv") and "'n1'" in log["errorMessage"]
    assert q(c, "MATCH (n:N) RETURN count(n) AS n") == [{"n": 2}]


def loader_threads(pid):
    """Names of the server's threads that belong to a running load's pipeline."""
    import os

    names = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                name = f.read().strip()
        except (FileNotFoundError, ProcessLookupError):
            # The thread ended meanwhile (before the open, or between it and the read: the
            # bulk placement starts and ends a helper thread per chunk).
            continue
        if name in ("nereid-loader-r", "nereid-loader-s"):  # comm keeps 15 bytes
            names.add(name)
    return names


def load_watching_threads(c, pid, source, **options):
    """Starts a load and polls the server's threads until it ends: the pipeline threads seen."""
    load_id = start(c, source, userProvidedEdgeIds=False, **options)
    seen = set()
    while True:
        seen |= loader_threads(pid)
        status = c.get_loader_job_status(loadId=load_id)["payload"]["overallStatus"]
        if status["status"] not in ("LOAD_NOT_STARTED", "LOAD_IN_PROGRESS", "LOAD_IN_QUEUE"):
            return status, seen


def test_parallelism_low_loads_on_one_thread_and_the_others_pipeline(start_server, tmp_path):
    n = 40_000
    load = tmp_path / "load"
    for name in ("low", "high"):
        folder = load / name
        folder.mkdir(parents=True)
        with open(folder / "people.csv", "w") as f:
            f.write(":ID,name:String,:LABEL\n")
            f.writelines(f"{name}{i},n{i},Person\n" for i in range(n))
        with open(folder / "knows.csv", "w") as f:
            f.write(":START_ID,:END_ID,:TYPE\n")
            f.writelines(f"{name}{i},{name}{(i * 7 + 1) % n},KNOWS\n" for i in range(n))
    s = start_server("--load-dir", str(load))
    c = s.client()
    status, seen = load_watching_threads(c, s.proc.pid, load / "low", parallelism="LOW")
    assert status["status"] == "LOAD_COMPLETED" and status["totalRecords"] == 2 * n, status
    assert seen == set(), f"parallelism LOW started pipeline threads: {seen}"
    status, seen = load_watching_threads(c, s.proc.pid, load / "high", parallelism="HIGH")
    assert status["status"] == "LOAD_COMPLETED" and status["totalRecords"] == 2 * n, status
    # The reading and the fsync-waiting threads live as long as a file's load.
    assert seen == {"nereid-loader-r", "nereid-loader-s"}, seen
    for name in ("low", "high"):
        rows = q(c, f"MATCH (a:Person)-[:KNOWS]->(b) WHERE a.name = 'n5' AND id(a) = '{name}5' "
                    "RETURN id(b) AS b")
        assert rows == [{"b": f"{name}36"}]
    with pytest.raises(ClientError) as e:
        start(c, load / "low", parallelism="SOME")
    assert error_code(e) == "InvalidParameterException"
