"""Generates botocore_vectors.json: requests exactly as botocore signs them for neptune-db.

Run: python3 gen_botocore_vectors.py > botocore_vectors.json   (needs boto3/botocore)

Each vector records what a server receives (method, raw path, raw query, headers, body) and
the credentials used, so the Rust tests can check that nereid-sigv4 accepts botocore's real
signatures. Requests are captured in botocore's `before-send` hook; nothing goes on the wire.
"""
import json
import random
import sys
from urllib.parse import urlsplit

import boto3
import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials

ENDPOINT = "http://127.0.0.1:18182"
vectors = []


class Stop(Exception):
    pass


def capture(name, creds, region):
    def before_send(request, **_):
        url = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        vectors.append({
            "name": name,
            "accessKeyId": creds[0], "secretAccessKey": creds[1], "sessionToken": creds[2],
            "region": region,
            "method": request.method,
            "path": url.path,
            "query": url.query or None,
            "headers": [[k, v if isinstance(v, str) else v.decode()] for k, v in request.headers.items()],
            "body": body.decode("utf-8"),
        })
        raise Stop()
    return before_send


def client(creds, region):
    c = boto3.client(
        "neptunedata", endpoint_url=ENDPOINT, region_name=region,
        aws_access_key_id=creds[0], aws_secret_access_key=creds[1], aws_session_token=creds[2],
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )
    # The Host header botocore signs is taken from the URL; record it like the wire has it.
    def add_host(request, **_):
        request.headers["Host"] = urlsplit(request.url).netloc
    c.meta.events.register_first("before-sign.neptunedata", add_host)
    return c


CALLS = [
    ("execute_open_cypher_query", dict(openCypherQuery="MATCH (n) RETURN n LIMIT 1")),
    ("execute_open_cypher_query", dict(openCypherQuery="CREATE (:Person {name: $n})",
                                      parameters=json.dumps({"n": "Zoë \u2603"}))),
    ("execute_open_cypher_explain_query", dict(openCypherQuery="MATCH (n) RETURN n", explainMode="dynamic")),
    ("get_open_cypher_query_status", dict(queryId="a/b c?d")),
    ("get_open_cypher_query_status", dict(queryId="%41+~*'()!")),
    ("list_open_cypher_queries", dict(includeWaiting=True)),
    ("cancel_open_cypher_query", dict(queryId="q-1", silent=True)),
    ("get_engine_status", dict()),
    ("get_propertygraph_summary", dict(mode="detailed")),
    ("get_propertygraph_stream", dict(limit=10, iteratorType="AT_SEQUENCE_NUMBER", commitNum=1, opNum=1, encoding="gzip")),
    ("execute_fast_reset", dict(action="initiateDatabaseReset")),
]

for creds, region in [
    (("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None), "us-east-1"),
    (("ASIATEMPEXAMPLE", "tmpSecret/with+chars=", "FQoGZXIvYXdzEJr//////////token=="), "eu-west-2"),
]:
    c = client(creds, region)
    for i, (op, kwargs) in enumerate(CALLS):
        c.meta.events.register("before-send.neptunedata", capture(f"{op}#{i}/{region}", creds, region),
                               unique_id="capture")
        try:
            getattr(c, op)(**kwargs)
        except Stop:
            pass
        c.meta.events.unregister("before-send.neptunedata", unique_id="capture")

    # Query-string presigning (SigV4QueryAuth), as botocore's generate_presigned_url does it.
    for path, query in [("/status", None), ("/opencypher/status", "includeWaiting=true&a=%2F%20x")]:
        url = f"{ENDPOINT}{path}" + (f"?{query}" if query else "")
        req = AWSRequest(method="GET", url=url, headers={"Host": "127.0.0.1:18182"})
        botocore.auth.SigV4QueryAuth(Credentials(*creds), "neptune-db", region, expires=900).add_auth(req)
        prepared = req.prepare()
        u = urlsplit(prepared.url)
        vectors.append({
            "name": f"presigned {path}/{region}",
            "accessKeyId": creds[0], "secretAccessKey": creds[1], "sessionToken": creds[2],
            "region": region, "method": "GET", "path": u.path, "query": u.query or None,
            "headers": [[k, v] for k, v in prepared.headers.items()], "body": "",
        })

    # Bolt IAM credentials, as AWS's Neptune Bolt samples build them.
    for host in ["127.0.0.1:18182", "my-cluster.example"]:
        req = AWSRequest(method="GET", url=f"https://{host}/opencypher", data=None)
        req.headers.add_header("Host", host)
        SigV4Auth(Credentials(*creds), "neptune-db", region).add_auth(req)
        auth = {h: req.headers[h] for h in ["Authorization", "X-Amz-Date", "X-Amz-Security-Token", "Host"]
                if h in req.headers}
        auth["HttpMethod"] = "GET"
        vectors.append({
            "name": f"bolt {host}/{region}",
            "accessKeyId": creds[0], "secretAccessKey": creds[1], "sessionToken": creds[2],
            "region": region, "bolt": json.dumps(auth),
        })

# Random requests signed by SigV4Auth directly: raw paths and queries with reserved,
# non-canonical ('+', lower-case escapes, raw sub-delimiters) and non-ASCII content, repeated
# and empty parameters, header values with runs of spaces and tabs, random bodies.
rng = random.Random(20261126)
ALPHABET = list("abZ09-_.~ /?#%&=+!$'()*,;:@") + ["\u00e9", "\u4e2d", "\U0001F600"]


def rtext(n):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, n)))


def enc(text, raw_ok):
    out = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch in "-_.~" or (ch in raw_ok and rng.random() < 0.5)):
            out.append(ch)
        else:
            out.append("".join("%%%02X" % b if rng.random() < 0.8 else "%%%02x" % b for b in ch.encode()))
    return "".join(out)


for i in range(120):
    creds, region = rng.choice([
        (("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None), "us-east-1"),
        (("ASIATEMPEXAMPLE", "tmpSecret/with+chars=", "FQoGZXIvYXdzEJr//////////token=="), "eu-west-2"),
    ])
    segs = []
    for _ in range(rng.randint(0, 4)):
        seg = rtext(8)
        segs.append(enc("x" if seg in (".", "..") else seg, "!$'()*,;:@+=&"))
    path = "/" + "/".join(segs)
    pairs = []
    for _ in range(rng.randint(0, 5)):
        k = enc(rtext(4), "!$'()*,;:@/?")
        form = rng.randint(0, 3)
        pairs.append(k if form == 0 else k + "=" if form == 1 else k + "=" + enc(rtext(8), "!$'()*,;:@/?+"))
    query = "&".join(pairs)
    method = rng.choice(["GET", "POST", "DELETE", "PUT"])
    body = rtext(60).encode() if method in ("POST", "PUT") and rng.random() < 0.8 else b""
    headers = {"Host": rng.choice(["127.0.0.1:8182", "localhost", "db.example:443"])}
    if body:
        headers["Content-Type"] = "application/json"
    if rng.random() < 0.5:
        headers["X-Custom"] = rng.choice(["a  b", "a\tb", "  lead and trail  ", "x \t y"]) + str(i)
    url = ENDPOINT + path + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url, headers=headers, data=body)
    SigV4Auth(Credentials(*creds), "neptune-db", region).add_auth(req)
    u = urlsplit(req.url)
    vectors.append({
        "name": f"random #{i}",
        "accessKeyId": creds[0], "secretAccessKey": creds[1], "sessionToken": creds[2],
        "region": region, "method": method, "path": u.path, "query": u.query or None,
        "headers": [[k, v] for k, v in req.headers.items()], "body": body.decode("utf-8"),
    })

json.dump({"botocore": botocore.__version__, "vectors": vectors}, sys.stdout, indent=1)
sys.stdout.write("\n")
