"""Point-lookup latency over Bolt next to HTTP, against one nereid server.

    python bench/bolt_latency.py --bin target/release/nereid [--persons 10000] [--lookups 1000]

Starts the binary in memory on a free port, loads `--persons` :Person nodes over HTTP, then
times `--lookups` lookups of one person by a property each way, interleaved, on one connection
each way (after 100 untimed rounds): over Bolt with the neo4j Python driver (`session.run` on
one session), and over HTTP with a keep-alive `http.client` connection posting to
`/openCypher`; and over Bolt again with a minimal hand-written client (RUN + PULL on a raw
socket, Bolt 4.4), which shows what the server itself costs without the driver's own
per-query work. Prints the Bolt version negotiated, the median and p99 of each, and their
ratio. Needs the `neo4j` package (tests/python/requirements.txt has it).
"""

import argparse
import http.client
import json
import random
import re
import socket
import statistics
import struct
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

from neo4j import GraphDatabase

QUERY = "MATCH (p:Person {pid: $pid}) RETURN p.name AS name"


def start(binary):
    log = Path(tempfile.mkstemp(prefix="nereid-bolt-bench-", suffix=".log")[1])
    out = open(log, "wb")
    proc = subprocess.Popen(
        [binary, "serve", "--in-memory", "--http-addr", "127.0.0.1:0"],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        m = re.search(r"listening on http://(\S+)", log.read_text(errors="replace"))
        if m:
            return proc, m.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"nereid did not start:\n{log.read_text(errors='replace')}")


def http_query(conn, text, parameters):
    body = urllib.parse.urlencode({"query": text, "parameters": json.dumps(parameters)})
    conn.request("POST", "/openCypher", body,
                 {"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}: {data[:300]!r}")
    return json.loads(data)["results"]


class RawBolt:
    """Just enough Bolt 4.4 for RUN + PULL of one query with one integer parameter."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(b"\x60\x60\xb0\x17" + bytes([0, 0, 4, 4]) + bytes(12))
        assert self.sock.recv(4) == bytes([0, 0, 4, 4])
        self.buf = b""
        self.send(0x01, self.map({"user_agent": self.text("raw/1"), "scheme": self.text("none")}))
        assert self.responses(1) == [0x70]

    @staticmethod
    def text(s):
        b = s.encode()
        return (bytes([0x80 + len(b)]) if len(b) < 16 else bytes([0xD0, len(b)])) + b

    @classmethod
    def map(cls, d):
        return bytes([0xA0 + len(d)]) + b"".join(cls.text(k) + v for k, v in d.items())

    def send(self, tag, *fields):
        body = bytes([0xB0 + len(fields), tag]) + b"".join(fields)
        self.sock.sendall(struct.pack(">H", len(body)) + body + b"\x00\x00")

    def responses(self, count):
        """The tags of the next `count` messages (dechunked)."""
        tags = []
        while len(tags) < count:
            message = b""
            while True:
                while len(self.buf) < 2:
                    self.buf += self.sock.recv(65536)
                size = struct.unpack(">H", self.buf[:2])[0]
                while len(self.buf) < 2 + size:
                    self.buf += self.sock.recv(65536)
                message += self.buf[2:2 + size]
                self.buf = self.buf[2 + size:]
                if size == 0:
                    break
            tags.append(message[1])
        return tags

    def lookup(self, query, pid):
        self.send(0x10, self.text(query), self.map({"pid": b"\xca" + struct.pack(">i", pid)}),
                  self.map({}))
        self.send(0x3F, self.map({"n": b"\xc9" + struct.pack(">h", 1000)}))
        # RUN: SUCCESS; PULL: one RECORD, SUCCESS.
        assert self.responses(3) == [0x70, 0x71, 0x70]


def timed(ids, *ways):
    """Times each way on every id, interleaved (so that no way always runs on a warmer or a
    busier machine), after 100 untimed rounds."""
    for pid in ids[:100]:
        for way in ways:
            way(pid)
    times = [[] for _ in ways]
    for i, pid in enumerate(ids[100:]):
        order = list(enumerate(ways)) if i % 2 == 0 else list(enumerate(ways))[::-1]
        for k, way in order:
            started = time.perf_counter()
            way(pid)
            times[k].append((time.perf_counter() - started) * 1e6)
    return times


def summary(times):
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default="target/release/nereid")
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=1_000)
    args = parser.parse_args()
    proc, addr = start(args.bin)
    try:
        host, port = addr.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        http_query(conn, "UNWIND range(0, $n - 1) AS i CREATE (:Person {pid: i, name: 'p' + i})",
                   {"n": args.persons})
        rng = random.Random(42)
        ids = [rng.randrange(args.persons) for _ in range(args.lookups + 100)]

        def over_http(pid):
            rows = http_query(conn, QUERY, {"pid": pid})
            assert rows == [{"name": f"p{pid}"}], rows

        raw = RawBolt(host, int(port))

        def over_raw_bolt(pid):
            raw.lookup(QUERY, pid)

        with GraphDatabase.driver(f"bolt://{addr}", auth=("u", "p")) as driver:
            driver.verify_connectivity()
            version = driver.get_server_info().protocol_version
            with driver.session() as session:
                def over_bolt(pid):
                    record = session.run(QUERY, pid=pid).single()
                    assert record["name"] == f"p{pid}", record

                bolt, http_times, raw_times = timed(ids, over_bolt, over_http, over_raw_bolt)
        (bm, b99), (hm, h99), (rm, r99) = summary(bolt), summary(http_times), summary(raw_times)
        print(f"Bolt version negotiated: {version[0]}.{version[1]}")
        print(f"{len(bolt)} lookups each way over {args.persons} persons")
        print(f"Bolt: median {bm:.0f} us, p99 {b99:.0f} us")
        print(f"HTTP: median {hm:.0f} us, p99 {h99:.0f} us")
        print(f"Bolt, minimal client: median {rm:.0f} us, p99 {r99:.0f} us")
        print(f"Bolt / HTTP: median {bm / hm:.2f}x, p99 {b99 / h99:.2f}x")
        print(f"Bolt minimal client / HTTP: median {rm / hm:.2f}x, p99 {r99 / h99:.2f}x")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


if __name__ == "__main__":
    main()
