"""The bulk loader reading `s3://bucket/prefix` from a real S3-compatible server: moto's
server (`moto_server`, from PyPI's moto[server]) on a free port, with authentication on, so
every ListObjectsV2 and GetObject nereid sends must carry a SigV4 signature moto accepts.

The fixture creates an IAM user in moto (its first requests are unauthenticated, by
INITIAL_NO_AUTH_ACTION_COUNT), uploads `.csv` and `.csv.gz` objects with boto3 as that user,
and starts nereid with `--s3-endpoint` and the user's key in AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY. Loads go through boto3 `neptunedata.start_loader_job`. A second
moto, over HTTPS with a certificate from a test CA, checks certificate verification
(AWS_CA_BUNDLE)."""

import contextlib
import gzip
import json
import os
import shutil
import ssl
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from test_loader import error_code, q, start, wait

BUCKET = "nereid-load"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def moto_command():
    """The moto of this interpreter's environment (the pinned one), not whatever else is on
    PATH: moto 5.2.1, for one, mis-verifies signed queries whose values hold a `/`."""
    exe = Path(sys.executable).with_name("moto_server")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "moto.server"]


@contextlib.contextmanager
def moto_server(*args, env=None, scheme="http"):
    """Runs moto_server on a free port until the block ends; yields its endpoint."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [*moto_command(), "-H", "127.0.0.1", "-p", str(port), *args],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    endpoint = f"{scheme}://127.0.0.1:{port}"
    context = ssl._create_unverified_context() if scheme == "https" else None
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1, context=context).read()
            break
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto_server did not start:\n" + Path(log.name).read_text())
            time.sleep(0.1)
    try:
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def moto():
    """A moto server with authentication; yields (endpoint, access key id, secret)."""
    # The first three requests (the IAM set-up below) need no signature; every later one
    # is checked against moto's IAM users and policies.
    with moto_server(env={"INITIAL_NO_AUTH_ACTION_COUNT": "3"}) as endpoint:
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="setup", aws_secret_access_key="setup")
        iam.create_user(UserName="loader")
        key = iam.create_access_key(UserName="loader")["AccessKey"]
        iam.put_user_policy(UserName="loader", PolicyName="s3", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        yield endpoint, key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture(scope="module")
def bucket(moto):
    """The bucket with the objects the tests load."""
    endpoint, key_id, secret = moto
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=key_id, aws_secret_access_key=secret)
    s3.create_bucket(Bucket=BUCKET)
    put = lambda key, body: s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    # Key order puts the relationship file first: the loader must still load nodes first.
    put("air/a-routes.csv.gz", gzip.compress(
        b":ID,:START_ID,:END_ID,:TYPE,dist:Int\ne1,SEA,PDX,ROUTE,129\ne2,PDX,SEA,ROUTE,129\ne3,SEA,BLI,ROUTE,80\n"))
    put("air/z-airports.csv",
        b':ID,code:String,elev:Int,:LABEL\nSEA,SEA,433,Airport\nPDX,"PDX, OR",31,Airport;Hub\nBLI,BLI,,Airport\n')
    put("air/sub/", b"")  # a "folder" placeholder
    put("air/.hidden.csv", b"not,a,load,file\n")
    put("air-elsewhere/x.csv", b":ID\nnot-under-the-prefix\n")
    put("bad/people.csv", b":ID,age:Int\np1,12\np2,twelve\np3,13\n")
    put("gremlin/v.csv", b"~id,~label,name:String(single),tag:String\nv1,person,Ann,x\nv2,person,Bob,y\n")
    put("gremlin-update/v.csv", b"~id,name:String(single),age:Int(single)\nv1,Anna,41\nv2,Bob,30\n")
    put("gremlin/e.csv", b"~id,~from,~to,~label,since:Int\ne1,v1,v2,knows,2001\n")
    put("gremlin-update/e.csv", b"~id,~from,~to,~label,since:Int\ne1,v1,v2,knows,2002\n")
    return endpoint, key_id, secret


def serve(start_server, endpoint, key_id, secret, *args, ca=None):
    env = {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1"}
    if ca is not None:
        env["AWS_CA_BUNDLE"] = str(ca)
    return start_server("--s3-endpoint", endpoint, "--s3-timeout-secs", "10", *args, env=env).client()


def test_s3_prefix_loads_csv_and_gz_objects_nodes_first(start_server, bucket):
    c = serve(start_server, *bucket)
    load_id = start(c, f"s3://{BUCKET}/air/")
    payload = wait(c, load_id, details=True, errors=True)
    overall = payload["overallStatus"]
    assert overall["status"] == "LOAD_COMPLETED", json.dumps(payload, indent=1)
    assert overall["fullUri"] == f"s3://{BUCKET}/air/"
    assert payload["feedCount"] == [{"LOAD_COMPLETED": 2}], "placeholder, hidden and other-prefix keys are skipped"
    assert overall["totalRecords"] == 6
    assert overall["insertErrors"] == 0 and overall["parsingErrors"] == 0
    rows = q(c, "MATCH (a:Airport)-[r:ROUTE]->(b) RETURN a.code AS a, b.code AS b, r.dist AS d ORDER BY a, b")
    assert rows == [{"a": "PDX, OR", "b": "SEA", "d": 129}, {"a": "SEA", "b": "BLI", "d": 80},
                    {"a": "SEA", "b": "PDX, OR", "d": 129}]
    assert q(c, "MATCH (n:Hub) RETURN n.elev AS e") == [{"e": 31}]
    assert q(c, "MATCH (n {`~id`: 'BLI'}) RETURN n.elev AS e") == [{"e": None}]

    # The same source again with RESUME: every object was completed, nothing is loaded twice.
    again = wait(c, start(c, f"s3://{BUCKET}/air/", mode="RESUME"))
    assert again["overallStatus"]["status"] == "LOAD_COMPLETED"
    assert q(c, "MATCH (n) RETURN count(n) AS n") == [{"n": 3}]


def test_edge_only_load_loads_objects_in_key_order(start_server, bucket):
    c = serve(start_server, *bucket)
    payload = wait(c, start(c, f"s3://{BUCKET}/air/", edgeOnlyLoad=True, failOnError=False),
                   errors=True)
    overall = payload["overallStatus"]
    # No first pass over the headers: the relationship object (first by key) is loaded
    # before the nodes exist, so each of its records is an insert error.
    assert overall["status"] == "LOAD_FAILED"
    assert overall["insertErrors"] == 3 and overall["totalRecords"] == 6
    logs = payload["errors"]["errorLogs"]
    assert {e["fileName"] for e in logs} == {f"s3://{BUCKET}/air/a-routes.csv.gz"}
    assert [e["recordNum"] for e in logs] == [1, 2, 3]
    assert q(c, "MATCH (n:Airport) RETURN count(n) AS n") == [{"n": 3}]
    assert q(c, "MATCH ()-[r]->() RETURN count(r) AS n") == [{"n": 0}]


def test_bad_records_in_an_object_are_logged_with_its_uri(start_server, bucket):
    c = serve(start_server, *bucket)
    payload = wait(c, start(c, f"s3://{BUCKET}/bad/", failOnError=False), errors=True, details=True)
    assert payload["overallStatus"]["datatypeMismatchErrors"] == 1
    (log,) = payload["errors"]["errorLogs"]
    assert log["fileName"] == f"s3://{BUCKET}/bad/people.csv" and log["recordNum"] == 2
    assert payload["failedFeeds"][0]["fullUri"] == f"s3://{BUCKET}/bad/people.csv"
    assert q(c, "MATCH (n) RETURN count(n) AS n") == [{"n": 2}]


def test_s3_failures_are_failed_loads_that_say_what_to_fix(start_server, bucket):
    endpoint, key_id, secret = bucket
    c = serve(start_server, endpoint, key_id, secret)
    payload = wait(c, start(c, "s3://no-such-bucket/data"), errors=True)
    assert payload["overallStatus"]["status"] == "LOAD_FAILED"
    (log,) = payload["errors"]["errorLogs"]
    assert "NoSuchBucket" in log["errorMessage"] and "does not exist" in log["errorMessage"]

    # A wrong secret: moto refuses the signature.
    c = serve(start_server, endpoint, key_id, "not-the-secret")
    payload = wait(c, start(c, f"s3://{BUCKET}/air/"), errors=True)
    assert payload["overallStatus"]["status"] == "LOAD_FAILED"
    (log,) = payload["errors"]["errorLogs"]
    assert log["errorCode"] == "S3_ACCESS_DENIED_ERROR", log
    assert "AWS_SECRET_ACCESS_KEY" in log["errorMessage"], log
    # An unknown key id.
    c = serve(start_server, endpoint, "AKIANOBODY", secret)
    payload = wait(c, start(c, f"s3://{BUCKET}/air/"), errors=True)
    (log,) = payload["errors"]["errorLogs"]
    assert log["errorCode"] == "S3_ACCESS_DENIED_ERROR" and "AKIANOBODY" in log["errorMessage"], log

    # An endpoint that is down.
    c = serve(start_server, f"http://127.0.0.1:{free_port()}", key_id, secret)
    t0 = time.monotonic()
    payload = wait(c, start(c, f"s3://{BUCKET}/air/"), errors=True)
    assert time.monotonic() - t0 < 10
    (log,) = payload["errors"]["errorLogs"]
    assert payload["overallStatus"]["status"] == "LOAD_FAILED"
    assert "is the S3 endpoint running" in log["errorMessage"], log
    assert q(c, "MATCH (n) RETURN count(n) AS n") == [{"n": 0}]


def test_without_an_endpoint_s3_sources_are_refused_with_how_to_configure(start_server):
    c = start_server().client()
    with pytest.raises(ClientError) as e:
        start(c, f"s3://{BUCKET}/air/")
    assert error_code(e) == "BadRequestException"
    message = e.value.response["Error"]["Message"]
    assert "--s3-endpoint" in message and "AWS_ACCESS_KEY_ID" in message, message


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command line")
def test_https_endpoints_are_verified_against_the_ca_bundle(start_server, tmp_path):
    # A CA and a server certificate it signs (webpki refuses a CA certificate as the server's).
    ca, ca_key = tmp_path / "ca.pem", tmp_path / "ca.key"
    cert, key, csr, ext = (tmp_path / n for n in ("cert.pem", "key.pem", "cert.csr", "ext.cnf"))
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for command in (
        ["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "1", "-subj", "/CN=nereid test CA"],
        ["openssl", "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "1", "-extfile", ext],
    ):
        subprocess.run([str(a) for a in command], check=True, capture_output=True)
    # No authentication here: this test is about TLS.
    with moto_server("--ssl-cert", str(cert), "--ssl-key", str(key), scheme="https") as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", verify=str(ca),
                          aws_access_key_id="k", aws_secret_access_key="s")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="tls/n.csv.gz", Body=gzip.compress(b":ID,name:String\nn1,over tls\n"))

        c = serve(start_server, endpoint, "k", "s", ca=ca)
        payload = wait(c, start(c, f"s3://{BUCKET}/tls/"))
        assert payload["overallStatus"]["status"] == "LOAD_COMPLETED", payload.get("message")
        assert q(c, "MATCH (n) RETURN n.name AS name") == [{"name": "over tls"}]

        # The system bundle does not trust the self-signed certificate: the load fails, saying so.
        c = serve(start_server, endpoint, "k", "s", ca="/etc/ssl/certs/ca-certificates.crt")
        payload = wait(c, start(c, f"s3://{BUCKET}/tls/"), errors=True)
        assert payload["overallStatus"]["status"] == "LOAD_FAILED"
        (log,) = payload["errors"]["errorLogs"]
        assert "TLS" in log["errorMessage"] and "certificate" in log["errorMessage"].lower(), log


@contextlib.contextmanager
def stalling_s3():
    """An S3 endpoint that lists one object, and on every GET of it sends the head and the
    first rows of a body it promises to be 10 MB, then sends nothing more for a minute."""
    import http.server
    import threading

    listing = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        '<Name>slow</Name><Prefix>p/</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>'
        '<IsTruncated>false</IsTruncated>'
        '<Contents><Key>p/people.csv</Key><Size>10000000</Size></Contents>'
        '</ListBucketResult>').encode()
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if "list-type=2" in self.path:
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(listing)))
                self.end_headers()
                self.wfile.write(listing)
                return
            self.send_response(200)
            self.send_header("Content-Length", "10000000")
            self.end_headers()
            self.wfile.write(b":ID,name:String\n" + b"".join(b"p%d,n\n" % i for i in range(100)))
            self.wfile.flush()
            release.wait(60)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_a_cancel_ends_a_load_stalled_on_s3_at_once_not_after_the_timeout(start_server):
    """A load whose S3 endpoint stops sending mid-object is cancelled within a second or
    two of DELETE, not after --s3-timeout-secs (60 s here), and the cancel is not logged as
    a read error."""
    with stalling_s3() as endpoint:
        c = start_server("--s3-endpoint", endpoint, "--s3-timeout-secs", "60", env={
            "AWS_ACCESS_KEY_ID": "AKIDSLOW", "AWS_SECRET_ACCESS_KEY": "slow",
            "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1"}).client()
        load_id = start(c, "s3://slow/p/", userProvidedEdgeIds=False)
        deadline = time.monotonic() + 20
        while c.get_loader_job_status(loadId=load_id)["payload"]["overallStatus"]["status"] != "LOAD_IN_PROGRESS":
            assert time.monotonic() < deadline, "the load never started"
            time.sleep(0.05)
        time.sleep(0.5)  # into the stalled read
        asked = time.monotonic()
        assert c.cancel_loader_job(loadId=load_id)["status"] == "200 OK"
        payload = wait(c, load_id, timeout=30, errors=True)
        took = time.monotonic() - asked
        assert payload["overallStatus"]["status"] == "LOAD_CANCELLED_BY_USER", json.dumps(payload, indent=1)
        assert took < 5, f"the cancel took {took:.1f} s"
        assert payload.get("errors", {}).get("errorLogs", []) == [], json.dumps(payload, indent=1)
        assert q(c, "RETURN 1 AS x") == [{"x": 1}]
