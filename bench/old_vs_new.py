"""Two nereid binaries (for example the first engine at a31a8d0 and engine v2) on the same synthetic
graph, loaded over HTTP, same machine, same run: medians of 5 warm runs and whether answers agree.

Usage: python3 bench/old_vs_new.py OLD_BIN NEW_BIN PERSONS   (stdlib only)
"""
import http.client, json, os, random, socket, subprocess, sys, tempfile, time, urllib.parse, statistics

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

class Server:
    def __init__(self, binary):
        self.port = free_port()
        self.dir = tempfile.mkdtemp()
        self.p = subprocess.Popen([binary, "serve", "--http-addr", f"127.0.0.1:{self.port}",
                                   "--data-dir", self.dir, "--query-timeout-ms", "120000"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
                self.c.request("GET", "/status"); self.c.getresponse().read(); return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def q(self, query, params=None):
        body = {"query": query}
        if params is not None:
            body["parameters"] = json.dumps(params)
        self.c.request("POST", "/openCypher", urllib.parse.urlencode(body),
                       {"Content-Type": "application/x-www-form-urlencoded"})
        r = self.c.getresponse(); data = r.read()
        if r.status != 200:
            return ("error", data[:200].decode())
        return json.loads(data)["results"]

    def rss_mib(self):
        for line in open(f"/proc/{self.p.pid}/status"):
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024

    def stop(self):
        self.p.terminate(); self.p.wait()

def load(s, n):
    rnd = random.Random(42)
    t0 = time.time()
    for i in range(0, n, 5000):
        rows = [{"id": j, "name": f"p{j}", "age": j % 80, "g": j % 20} for j in range(i, min(n, i + 5000))]
        s.q("UNWIND $rows AS r CREATE (:Person {id: r.id, name: r.name, age: r.age, g: r.g})", {"rows": rows})
    edges = []
    for a in range(n):
        for _ in range(6):
            b = int(n * (rnd.random() ** 2))  # skewed popularity
            if b != a:
                edges.append({"from": a, "to": b})
    t1 = time.time()
    for i in range(0, len(edges), 5000):
        s.q("UNWIND $rows AS r MATCH (a:Person {id: r.from}), (b:Person {id: r.to}) CREATE (a)-[:KNOWS]->(b)",
            {"rows": edges[i:i + 5000]})
    return t1 - t0, time.time() - t1, len(edges)

QUERIES = [
    ("point lookup", "MATCH (p:Person {id: 4321}) RETURN p.name"),
    ("1-hop ordered", "MATCH (p:Person {id: 77})-[:KNOWS]->(f) RETURN f.id ORDER BY f.id"),
    ("2-hop distinct count", "MATCH (p:Person {id: 77})-[:KNOWS]->()-[:KNOWS]->(f) RETURN count(DISTINCT f)"),
    ("count per group top 10", "MATCH (p:Person)-[:KNOWS]->(f) RETURN f.id, count(*) AS c ORDER BY c DESC, f.id LIMIT 10"),
    ("filter+order+limit 20", "MATCH (p:Person) WHERE p.age > 30 AND p.name STARTS WITH 'p1' RETURN p.id ORDER BY p.age DESC, p.id LIMIT 20"),
    ("var-length *1..3 count", "MATCH (p:Person {id: 77})-[:KNOWS*1..3]->(f) RETURN count(f)"),
    ("where on middle node", "MATCH (a)-[:KNOWS]->(b:Person {id: 5}) RETURN count(a)"),
    ("shortest path", "MATCH (a:Person {id: 77}), (b:Person {id: 1999}) MATCH p = shortestPath((a)-[:KNOWS*..10]-(b)) RETURN length(p)"),
    ("LIMIT 1 over 3 hops", "MATCH (a:Person)-[:KNOWS]->()-[:KNOWS]->()-[:KNOWS]->(d) RETURN d.id LIMIT 1"),
]

def bench(s, reps=5):
    out = {}
    for name, q in QUERIES:
        first = s.q(q)
        times = []
        if not (isinstance(first, tuple)):
            for _ in range(reps):
                t = time.perf_counter(); s.q(q); times.append((time.perf_counter() - t) * 1000)
        out[name] = (first, statistics.median(times) if times else None)
    return out

def main():
    old_bin, new_bin, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    res = {}
    for label, b in (("old", old_bin), ("v2", new_bin)):
        s = Server(b)
        nodes_s, rels_s, ne = load(s, n)
        res[label] = (bench(s), nodes_s, rels_s, ne, s.rss_mib())
        s.stop()
    print(f"{n} persons, {res['v2'][3]} KNOWS; load nodes old {res['old'][1]:.1f}s v2 {res['v2'][1]:.1f}s; "
          f"load rels old {res['old'][2]:.1f}s v2 {res['v2'][2]:.1f}s; peak RSS old {res['old'][4]:.0f} MiB v2 {res['v2'][4]:.0f} MiB")
    print(f"{'query':28} {'old ms':>10} {'v2 ms':>10} {'speed-up':>9}  same answer")
    for name, _ in QUERIES:
        (a, ta), (b, tb) = res["old"][0][name], res["v2"][0][name]
        same = "yes" if a == b else ("ORDER-INSENSITIVE" if not isinstance(a, tuple) and not isinstance(b, tuple) and sorted(map(json.dumps, a)) == sorted(map(json.dumps, b)) else f"NO old={str(a)[:60]} v2={str(b)[:60]}")
        fmt = lambda t: f"{t:10.2f}" if t is not None else f"{'error':>10}"
        sp = f"{ta / tb:8.1f}x" if ta and tb else "       -"
        print(f"{name:28} {fmt(ta)} {fmt(tb)} {sp}  {same}")

main()
