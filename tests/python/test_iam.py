"""IAM authentication and authorization (`--auth iam --iam-config FILE`) with the real boto3
and botocore SigV4 signing against the built binary; `--read-only`; HTTPS with a certificate
made by the openssl command line.

Every refusal must be AccessDeniedException (403) and must change nothing in the graph.
"""

import datetime
import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import Server
from helpers import LONG, Background

REGION = "us-east-1"


def allow(*actions, condition=None):
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


def user(name, statements, token=None):
    return {
        "name": name,
        "accessKeyId": f"AKID{name.upper()}",
        "secretAccessKey": f"{name}-secret",
        "sessionToken": token,
        "policy": {"Version": "2012-10-17", "Statement": statements},
    }


USERS = [
    user("admin", [allow("neptune-db:*")]),
    user("reader", [allow("neptune-db:Read*", "neptune-db:Get*", "neptune-db:List*")]),
    user("watcher", [allow("neptune-db:GetQueryStatus")]),
    # Everything allowed, then writing denied: the explicit Deny must win.
    user(
        "denied",
        [
            allow("neptune-db:*"),
            {"Effect": "Deny", "Action": "neptune-db:WriteDataViaQuery", "Resource": "*"},
        ],
    ),
    user("legacy", [allow("neptune-db:connect")]),
    user("temporary", [allow("neptune-db:*")], token="session-token-1"),
    # Only over TLS, and only openCypher.
    user(
        "tlsonly",
        [
            allow(
                "neptune-db:*",
                condition={
                    "Bool": {"aws:SecureTransport": "true"},
                    "StringEquals": {"neptune-db:QueryLanguage": "OpenCypher"},
                },
            )
        ],
    ),
]


def keys(name, secret=None, token=None):
    u = next(u for u in USERS if u["name"] == name)
    return u["accessKeyId"], secret or u["secretAccessKey"], token or u["sessionToken"]


@pytest.fixture(scope="module")
def iam_file():
    path = Path(tempfile.mkstemp(prefix="nereid-iam-", suffix=".json")[1])
    path.write_text(json.dumps({"region": REGION, "users": USERS}))
    yield path
    path.unlink()


@pytest.fixture(scope="module")
def iam_server(iam_file):
    s = Server("--workers", "4", "--auth", "iam", "--iam-config", str(iam_file))
    yield s
    s.stop()


def client_for(server, name=None, secret=None, token=None, url=None, verify=None):
    access, secret, token = keys(name, secret, token) if name else ("AKIDNOBODY", "x", None)
    return boto3.client(
        "neptunedata",
        endpoint_url=url or server.url,
        region_name=REGION,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        aws_session_token=token,
        verify=verify,
        config=Config(read_timeout=None, retries={"total_max_attempts": 1}),
    )


def query(client, text, **parameters):
    args = {"openCypherQuery": text}
    if parameters:
        args["parameters"] = json.dumps(parameters)
    return client.execute_open_cypher_query(**args)["results"]


def denied(call):
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    assert error["Error"]["Code"] == "AccessDeniedException", error
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    return error["Error"]["Message"]


def count(server, label):
    admin = client_for(server, "admin")
    return query(admin, f"MATCH (n:{label}) RETURN count(n) AS c")[0]["c"]


def signed_request(server, name, body, secret=None, path="/openCypher"):
    """A POST signed by botocore's SigV4Auth, as a dict urllib can send."""
    access, secret, token = keys(name, secret)
    request = AWSRequest(
        method="POST",
        url=server.url + path,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    SigV4Auth(Credentials(access, secret, token), "neptune-db", REGION).add_auth(request)
    return request


def send(url, body, headers, method="POST"):
    req = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read())


# --- authentication ---------------------------------------------------------------------


def test_right_credentials_work(iam_server):
    admin = client_for(iam_server, "admin")
    rows = query(admin, "CREATE (n:Auth {`~id`: 'a1', name: $name}) RETURN n.name AS name", name="x")
    assert rows == [{"name": "x"}]
    assert admin.get_engine_status()["status"] == "healthy"
    assert "queries" in admin.list_open_cypher_queries(includeWaiting=True)
    # The legacy catch-all action and a session token (matching) also get in.
    assert query(client_for(iam_server, "legacy"), "RETURN 1 AS one") == [{"one": 1}]
    assert query(client_for(iam_server, "temporary"), "RETURN 1 AS one") == [{"one": 1}]


def test_wrong_secret_unknown_key_and_wrong_token_are_denied(iam_server):
    before = count(iam_server, "Intruder")
    message = denied(lambda: query(client_for(iam_server, "admin", secret="guess"), "CREATE (:Intruder)"))
    assert "signature" in message
    message = denied(lambda: query(client_for(iam_server), "CREATE (:Intruder)"))
    assert "security token" in message
    denied(lambda: query(client_for(iam_server, "temporary", token="other"), "CREATE (:Intruder)"))
    denied(lambda: client_for(iam_server, "admin", secret="guess").list_open_cypher_queries())
    denied(lambda: client_for(iam_server, "admin", secret="guess").get_engine_status())
    assert count(iam_server, "Intruder") == before


def test_unsigned_requests_are_denied(iam_server):
    for method, path, body in [
        ("POST", "/openCypher", b"query=CREATE+(:Intruder)"),
        ("GET", "/openCypher?query=RETURN+1", None),
        ("GET", "/openCypher/status", None),
        ("GET", "/status", None),
        ("GET", "/no/such/route", None),
    ]:
        status, headers, body = send(iam_server.url + path, body, {}, method=method)
        assert status == 403, (method, path, body)
        assert headers["x-amzn-ErrorType"] == "AccessDeniedException"
        assert body["code"] == "AccessDeniedException"
        assert body["detailedMessage"] == "Missing Authentication Token"
    assert count(iam_server, "Intruder") == 0


def test_body_altered_after_signing_is_denied(iam_server):
    request = signed_request(iam_server, "admin", b"query=CREATE+(:Tampered)+RETURN+1")
    # The genuine request goes through once …
    status, _, body = send(request.url, request.body, request.headers)
    assert status == 200, body
    # … the same signature on another body does not.
    status, headers, body = send(request.url, b"query=CREATE+(:Tampered)+RETURN+2", request.headers)
    assert status == 403, body
    assert headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert "signature" in body["detailedMessage"]
    # Nor on another path or with an added query parameter.
    other = request.url.replace("/openCypher", "/openCypher?x=1")
    status, _, _ = send(other, request.body, request.headers)
    assert status == 403
    assert count(iam_server, "Tampered") == 1


def test_stale_and_future_dates_are_denied(iam_server, monkeypatch):
    for skew in (datetime.timedelta(minutes=-6), datetime.timedelta(minutes=6)):
        when = datetime.datetime.now(datetime.timezone.utc) + skew
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda when=when: when)
        request = signed_request(iam_server, "admin", b"query=CREATE+(:Stale)")
        status, headers, body = send(request.url, request.body, request.headers)
        assert status == 403, body
        assert body["code"] == "AccessDeniedException"
        assert "Signature" in body["detailedMessage"]
    # Within the five minutes allowed, the clock difference is tolerated.
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=4)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: when)
    request = signed_request(iam_server, "admin", b"query=RETURN+1+AS+one")
    status, _, body = send(request.url, request.body, request.headers)
    assert status == 200, body
    assert count(iam_server, "Stale") == 0


# --- authorization ----------------------------------------------------------------------


def test_read_only_policy_reads_and_lists_but_cannot_write_or_delete(iam_server):
    admin = client_for(iam_server, "admin")
    query(admin, "CREATE (:Kept {`~id`: 'k1', v: 1})")
    reader = client_for(iam_server, "reader")
    assert query(reader, "MATCH (n:Kept) RETURN n.v AS v") == [{"v": 1}]
    assert "queries" in reader.list_open_cypher_queries(includeWaiting=True)
    assert reader.get_engine_status()["status"] == "healthy"
    message = denied(lambda: query(reader, "CREATE (:Kept {v: 2})"))
    assert "neptune-db:WriteDataViaQuery" in message
    message = denied(lambda: query(reader, "MATCH (n:Kept) DETACH DELETE n"))
    assert "neptune-db:DeleteDataViaQuery" in message
    denied(lambda: query(reader, "MATCH (n:Kept) SET n.v = 3"))
    denied(lambda: query(reader, "MATCH (n:Kept) REMOVE n.v"))
    denied(lambda: query(reader, "MERGE (n:Kept {v: 4})"))
    assert query(admin, "MATCH (n:Kept) RETURN n.v AS v") == [{"v": 1}]


def test_status_only_policy_can_list_but_not_cancel(iam_server):
    admin = client_for(iam_server, "admin")
    watcher = client_for(iam_server, "watcher")
    long = Background(client_for(iam_server, "admin"), LONG)
    try:
        deadline = time.monotonic() + 10
        ids = []
        while not ids and time.monotonic() < deadline:
            listed = watcher.list_open_cypher_queries(includeWaiting=True)["queries"]
            ids = [q["queryId"] for q in listed if q["queryString"] == LONG]
            time.sleep(0.02)
        assert ids, "the long query never showed up"
        assert watcher.get_open_cypher_query_status(queryId=ids[0])["queryId"] == ids[0]
        message = denied(lambda: watcher.cancel_open_cypher_query(queryId=ids[0]))
        assert "neptune-db:CancelQuery" in message
        # The raw cancelQuery form is refused too, and so is running a query.
        request = signed_request(iam_server, "watcher", f"queryId={ids[0]}&cancelQuery".encode(),
                                 path="/openCypher/status")
        status, _, body = send(request.url, request.body, request.headers)
        assert (status, body["code"]) == (403, "AccessDeniedException"), body
        denied(lambda: query(watcher, "RETURN 1"))
        denied(lambda: watcher.get_engine_status())
        assert watcher.get_open_cypher_query_status(queryId=ids[0])["queryEvalStats"]["cancelled"] is False
        admin.cancel_open_cypher_query(queryId=ids[0])
        long.join()
        assert long.error_code() == "CancelledByUserException"
    finally:
        long.join()


def test_explicit_deny_overrides_allow(iam_server):
    client = client_for(iam_server, "denied")
    assert query(client, "RETURN 1 AS one") == [{"one": 1}]
    message = denied(lambda: query(client, "CREATE (:Forbidden)"))
    assert "explicit deny" in message
    # Deleting is not denied, only writing.
    query(client, "MATCH (n:Nothing) DELETE n")
    assert count(iam_server, "Forbidden") == 0


def test_secure_transport_condition_denies_plain_http(iam_server):
    message = denied(lambda: query(client_for(iam_server, "tlsonly"), "RETURN 1"))
    assert "no identity-based policy allows" in message


def test_presigned_url_works(iam_server):
    """Query-string signing (the form `awscurl --presign` and SDK presigners use)."""
    from botocore.auth import SigV4QueryAuth

    access, secret, _ = keys("reader")
    request = AWSRequest(method="GET", url=iam_server.url + "/status")
    SigV4QueryAuth(Credentials(access, secret), "neptune-db", REGION, expires=60).add_auth(request)
    status, _, body = send(request.url, None, {}, method="GET")
    assert status == 200, body
    assert body["status"] == "healthy"
    status, _, body = send(request.url.replace("X-Amz-Expires=60", "X-Amz-Expires=61"), None, {}, method="GET")
    assert status == 403, body


def test_bad_iam_config_stops_start_up(tmp_path):
    bad = tmp_path / "iam.json"
    bad.write_text(json.dumps({"users": [{"name": "x", "accessKeyId": "A", "secretAccessKey": "s",
                                          "policy": {"Statement": [{"Effect": "Allow", "Action": "neptune-db:*"}]}}]}))
    for args in (["--auth", "iam"], ["--auth", "iam", "--iam-config", str(bad)],
                 ["--auth", "iam", "--iam-config", str(tmp_path / "missing.json")]):
        with pytest.raises(RuntimeError) as caught:
            Server(*args)
        assert "iam" in str(caught.value).lower()


# --- read-only mode ---------------------------------------------------------------------


def test_read_only_mode_rejects_writes_before_they_run(start_server, tmp_path):
    writable = start_server(data_dir=tmp_path)
    query(writable.client(), "CREATE (:Seed {v: 1})")
    assert writable.stop() == 0
    server = start_server("--read-only", data_dir=tmp_path)
    client = server.client()
    assert query(client, "MATCH (n:Seed) RETURN n.v AS v") == [{"v": 1}]
    for text in ("CREATE (:Seed {v: 2})", "MATCH (n:Seed) SET n.v = 5", "MATCH (n) DETACH DELETE n",
                 "MERGE (:Other)", "UNWIND [1] AS x CREATE (:Seed {v: x})"):
        with pytest.raises(ClientError) as caught:
            query(client, text)
        assert caught.value.response["Error"]["Code"] == "ReadOnlyViolationException", text
    assert query(client, "MATCH (n) RETURN count(n) AS c, sum(n.v) AS s") == [{"c": 1, "s": 1}]


# --- TLS --------------------------------------------------------------------------------


class TlsServer(Server):
    def _wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if "listening on https://" in text:
                return text.split("listening on https://", 1)[1].split()[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"nereid did not start:\n{self.log_path.read_text(errors='replace')}")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command line")
def test_tls_serves_signed_queries_with_secure_transport(iam_file, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    server = TlsServer("--auth", "iam", "--iam-config", str(iam_file),
                       "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        url = f"https://{server.addr}"
        # The CA file makes the client check the certificate; the tlsonly user's policy
        # allows only requests with aws:SecureTransport true.
        client = client_for(server, "tlsonly", url=url, verify=str(cert))
        assert query(client, "CREATE (n:Secure) RETURN count(n) AS c") == [{"c": 1}]
        unverified = client_for(server, "admin", url=url, verify=False)
        assert query(unverified, "MATCH (n:Secure) RETURN count(n) AS c") == [{"c": 1}]
        assert unverified.get_engine_status()["status"] == "healthy"
        denied(lambda: query(client_for(server, "admin", secret="guess", url=url, verify=False), "RETURN 1"))
        # Plain HTTP on the TLS port is not served.
        with pytest.raises(Exception):
            urllib.request.urlopen(f"http://{server.addr}/status", timeout=5).read()
        assert query(client, "RETURN 1 AS one") == [{"one": 1}]
    finally:
        server.stop()


def test_bad_tls_files_stop_start_up(tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")
    with pytest.raises(RuntimeError) as caught:
        Server("--tls-cert", str(cert), "--tls-key", str(tmp_path / "missing.pem"))
    assert "TLS" in str(caught.value)
