"""Deterministic synthetic social graph for the side-by-side benchmark.

The same `(persons, seed)` always gives byte-identical files, so every system loads exactly
the same graph and a figure from one day can be compared with one from another.

Shape (N = number of persons):

* ``Person {id, name, age, email}``                N nodes
* ``City {id, name}``                              max(10, N/100)
* ``Company {id, name}``                           max(10, N/50)
* ``Post {id, title, length}``                     N
* ``(Person)-[:KNOWS {since}]->(Person)``          ~6 per person. Out-degrees are log-normal
  (mean ~6, long tail); targets are drawn with Zipf-like popularity (weight 1/rank^0.8 over a
  random permutation of persons), so in-degrees follow a power law (exponent ~2.25) with a few
  hubs holding thousands of followers at 100k persons. No self loops, no duplicate pairs.
* ``(Person)-[:LIVES_IN]->(City)``                 1 per person, skewed (Zipf 1.0)
* ``(Person)-[:WORKS_AT]->(Company)``              85% of persons, skewed (Zipf 0.9)
* ``(Person)-[:LIKES]->(Post)``                    ~3 per person, skewed (Zipf 1.0)

Output, in one directory: one CSV per label and per relationship type (a header row, then
plain comma-separated values; no field ever needs quoting), ``meta.json`` with the counts
and the query parameters the suite uses (a hub, a mid-popularity person, an ordinary person,
and a pair of persons far apart for shortest path), chosen from the generated graph itself,
and ``expected.json``: the answer to each query of the suite, computed here in plain Python
from the generated rows, so that answers are checked against ground truth rather than only
against each other.

Run alone: ``python -m bench.generate --persons 10000 --out DIR``.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import math
import os
import random
from collections import defaultdict, deque

FIRST = (
    "Ada Alan Alice Amir Ana Anders Aya Ben Bruno Carla Chen Chloe Dana David Elena Emil Eva "
    "Farah Felix Grace Hana Hugo Ines Ivan Jade Jonas Julia Kai Karl Lea Leo Lina Luca Maya Mia "
    "Nina Noah Olga Omar Pablo Priya Quinn Rosa Sam Sara Tariq Uma Vera Wei Yara Zoe"
).split()
LAST = (
    "Adams Bauer Costa Dubois Eriksen Fischer Garcia Haddad Ito Jansen Kowalski Larsen Moreau "
    "Nakamura Okafor Petrov Quispe Rossi Silva Tanaka Ulrich Varga Weber Xu Yilmaz Zhang Novak "
    "Brown Smith Lopez Kim Singh Nguyen Müller Öztürk"
).split()
DOMAINS = ("example.com", "mail.test", "corp.example", "post.test")
CITY_STEMS = (
    "Port North South East West New Old Lake River Bay Hill Stone Green Red Iron Silver Gold "
    "Oak Pine Ash Elm"
).split()
CITY_TAILS = "ton ville burg ford field mouth haven dale wick stead".split()
COMPANY_WORDS = (
    "Acme Globex Initech Umbrella Hooli Vandelay Stark Wayne Tyrell Cyberdyne Soylent Wonka "
    "Nakatomi Oscorp Aperture Gringotts"
).split()
COMPANY_KINDS = "Labs Systems Foods Logistics Media Energy Capital Robotics".split()
POST_WORDS = (
    "graph query river morning coffee travel music code garden winter summer photo recipe "
    "book film match trail city night"
).split()

FORMAT_VERSION = 3


def zipf_cum_weights(n: int, s: float) -> list[float]:
    """Cumulative weights 1/rank^s for ranks 1..n (for bisect / random.choices)."""
    return list(itertools.accumulate(1.0 / (k**s) for k in range(1, n + 1)))


def pick(rng: random.Random, cum: list[float]) -> int:
    """Index in 0..len(cum)-1 drawn with the given cumulative weights."""
    return bisect.bisect_right(cum, rng.random() * cum[-1])


def lognormal_int(rng: random.Random, mean: float, sigma: float, lo: int, hi: int) -> int:
    """An integer from a log-normal with the given mean, clamped to [lo, hi]."""
    mu = math.log(mean) - sigma * sigma / 2.0
    return max(lo, min(hi, int(round(rng.lognormvariate(mu, sigma)))))


def generate(persons: int, seed: int = 42) -> dict:
    """Build the graph in memory: a dict of row lists plus the metadata."""
    if persons < 10:
        raise ValueError("need at least 10 persons")
    rng = random.Random(seed)
    n_city = max(10, persons // 100)
    n_company = max(10, persons // 50)
    n_post = persons

    person_rows = []
    for pid in range(1, persons + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}.{pid}@{rng.choice(DOMAINS)}".lower()
        person_rows.append((pid, f"{first} {last}", rng.randint(18, 80), email))
    city_rows = [
        (cid, f"{rng.choice(CITY_STEMS)}{rng.choice(CITY_TAILS)} {cid}")
        for cid in range(1, n_city + 1)
    ]
    company_rows = [
        (cid, f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {cid}")
        for cid in range(1, n_company + 1)
    ]
    post_rows = [
        (pid, " ".join(rng.choice(POST_WORDS) for _ in range(3)), rng.randint(10, 2000))
        for pid in range(1, n_post + 1)
    ]

    # Popularity: rank r (0 = most popular) maps to a random person, so popularity does not
    # follow id order.
    by_rank = list(range(1, persons + 1))
    rng.shuffle(by_rank)
    person_cum = zipf_cum_weights(persons, 0.8)

    knows = []
    out_adj: dict[int, set[int]] = {}
    for pid in range(1, persons + 1):
        want = lognormal_int(rng, 6.0, 0.8, 1, 200)
        targets = out_adj.setdefault(pid, set())
        tries = 0
        while len(targets) < want and tries < want * 4:
            tries += 1
            t = by_rank[pick(rng, person_cum)]
            if t != pid and t not in targets:
                targets.add(t)
                knows.append((pid, t, rng.randint(2000, 2025)))

    city_cum = zipf_cum_weights(n_city, 1.0)
    city_perm = list(range(1, n_city + 1))
    rng.shuffle(city_perm)
    lives_in = [(pid, city_perm[pick(rng, city_cum)]) for pid in range(1, persons + 1)]

    company_cum = zipf_cum_weights(n_company, 0.9)
    company_perm = list(range(1, n_company + 1))
    rng.shuffle(company_perm)
    works_at = [
        (pid, company_perm[pick(rng, company_cum)])
        for pid in range(1, persons + 1)
        if rng.random() < 0.85
    ]

    post_cum = zipf_cum_weights(n_post, 1.0)
    post_perm = list(range(1, n_post + 1))
    rng.shuffle(post_perm)
    likes = []
    for pid in range(1, persons + 1):
        liked = set()
        for _ in range(lognormal_int(rng, 3.0, 0.9, 0, 100)):
            liked.add(post_perm[pick(rng, post_cum)])
        likes.extend((pid, post) for post in sorted(liked))

    meta = {
        "format_version": FORMAT_VERSION,
        "persons": persons,
        "seed": seed,
        "counts": {
            "Person": persons,
            "City": n_city,
            "Company": n_company,
            "Post": n_post,
            "KNOWS": len(knows),
            "LIVES_IN": len(lives_in),
            "WORKS_AT": len(works_at),
            "LIKES": len(likes),
        },
        "params": choose_params(rng, persons, by_rank, out_adj),
    }
    return {
        "Person": person_rows,
        "City": city_rows,
        "Company": company_rows,
        "Post": post_rows,
        "KNOWS": knows,
        "LIVES_IN": lives_in,
        "WORKS_AT": works_at,
        "LIKES": likes,
        "meta": meta,
    }


def choose_params(
    rng: random.Random, persons: int, by_rank: list[int], out_adj: dict[int, set[int]]
) -> dict:
    """Query parameters taken from the graph: persons of known popularity and a far pair."""
    ordinary = next(p for p in (rng.randint(1, persons) for _ in range(1000))
                    if len(out_adj.get(p, ())) >= 4)
    # Breadth-first search along KNOWS from `ordinary`: the far end of the shortest-path
    # query is the smallest id among the persons farthest away (deterministic, non-trivial).
    # Directed, because FalkorDB does not support undirected shortestPath.
    dist = {ordinary: 0}
    queue = deque([ordinary])
    while queue:
        cur = queue.popleft()
        for nxt in out_adj.get(cur, ()):
            if nxt not in dist:
                dist[nxt] = dist[cur] + 1
                queue.append(nxt)
    far = min(max(dist.values()), 25)  # Kuzu's SHORTEST needs an upper bound (we use 30)
    far_id = min(p for p, d in dist.items() if d == far)
    return {
        "hub": by_rank[0],
        "popular": by_rank[min(50, persons - 1)],
        "ordinary": ordinary,
        "sp_from": ordinary,
        "sp_to": far_id,
        "sp_distance": far,
        "name_prefix": "Al",
        "email_fragment": "7@",
    }


def expected_answers(graph: dict) -> dict:
    """Ground truth for the query suite (bench/queries.py), from the rows themselves.

    {query name: {"columns": [...], "rows": [[...], ...]}}, with the suite's column aliases,
    rows in the query's ORDER BY order where it has one. Cypher semantics: a pattern's
    relationships are distinct, an undirected pattern matches a mutual pair twice.
    """
    p = graph["meta"]["params"]
    persons = {r[0]: r for r in graph["Person"]}
    out = defaultdict(list)
    inc = defaultdict(list)
    since = []
    for a, b, year in graph["KNOWS"]:
        out[a].append(b)
        inc[b].append(a)
        since.append(year)
    und = lambda x: out[x] + inc[x]  # noqa: E731 - neighbours with multiplicity
    city_name = {r[0]: r[1] for r in graph["City"]}
    company_name = {r[0]: r[1] for r in graph["Company"]}
    lives = dict(graph["LIVES_IN"])
    works = dict(graph["WORKS_AT"])
    likes = defaultdict(list)
    for a, post in graph["LIKES"]:
        likes[a].append(post)
    ans = {}

    def put(name, columns, rows):
        ans[name] = {"columns": columns, "rows": [list(r) for r in rows]}

    _, name, age, email = persons[p["ordinary"]]
    put("point_lookup", ["name", "age", "email"], [(name, age, email)])
    put("one_hop_ordered", ["id", "name"],
        sorted((f, persons[f][1]) for f in und(p["popular"])))
    o = p["ordinary"]
    put("two_hop_distinct", ["n"],
        [(len({c for b in out[o] for c in out[b] if c != o}),)])
    # Three hops with relationship uniqueness: a path may not use one KNOWS twice (o→b→o→b).
    out_rels = defaultdict(list)
    for rel, (a, b, _) in enumerate(graph["KNOWS"]):
        out_rels[a].append((rel, b))
    put("three_hop_distinct", ["n"],
        [(len({d for r1, b in out_rels[o] for r2, c in out_rels[b] if r2 != r1
               for r3, d in out_rels[c] if r3 not in (r1, r2)}),)])
    per_city = defaultdict(int)
    for city in lives.values():
        per_city[city_name[city]] += 1
    put("city_top10", ["city", "n"],
        sorted(per_city.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    put("filter_order_limit", ["id", "name", "age"],
        [(r[0], r[1], r[2]) for r in sorted((r for r in graph["Person"] if 30 <= r[2] < 35),
                                           key=lambda r: (r[1], r[0]))[:20]])
    reach, frontier = set(), {o}
    for _ in range(3):
        frontier = {y for x in frontier for y in out[x]}
        reach |= frontier
    put("varlen_1_3", ["n"], [(len(reach),)])
    put("shortest_path", ["len"], [(p["sp_distance"],)])
    outset = {a: set(bs) for a, bs in out.items()}
    tri = sum(1 for a in out for b in out[a] for c in out[b] if a in outset.get(c, ()))
    put("triangles", ["n"], [(tri,)])
    put("optional_match", ["id", "company"],
        [(i, company_name[works[i]] if i in works else None)
         for i in sorted(persons) if i <= 200])
    put("rel_aggregation", ["n", "first", "last", "mean"],
        [(len(since), min(since), max(since), sum(since) / len(since))])
    put("string_predicate", ["n"],
        [(sum(1 for r in graph["Person"]
              if r[1].startswith(p["name_prefix"]) and p["email_fragment"] in r[3]),)])
    put("top_in_degree", ["id", "deg"],
        sorted(((b, len(a)) for b, a in inc.items()), key=lambda kv: (-kv[1], kv[0]))[:10])
    liked = defaultdict(int)
    for f in und(p["hub"]):
        for post in likes[f]:
            liked[post] += 1
    put("friends_likes", ["post", "n"],
        sorted(liked.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    cities = defaultdict(set)
    for r in graph["Person"]:
        if r[2] > 60 and r[0] in works:
            cities[company_name[works[r[0]]]].add(lives[r[0]])
    put("company_cities", ["company", "cities"],
        sorted(((c, len(s)) for c, s in cities.items()), key=lambda kv: (-kv[1], kv[0]))[:10])
    put("write_set", ["age"], [(42,)])
    put("write_create", ["n"], [(100,)])
    return ans


HEADERS = {
    "Person": "id,name,age,email",
    "City": "id,name",
    "Company": "id,name",
    "Post": "id,title,length",
    "KNOWS": "from,to,since",
    "LIVES_IN": "from,to",
    "WORKS_AT": "from,to",
    "LIKES": "from,to",
}
NODE_LABELS = ("Person", "City", "Company", "Post")
REL_TYPES = {  # type -> (from label, to label)
    "KNOWS": ("Person", "Person"),
    "LIVES_IN": ("Person", "City"),
    "WORKS_AT": ("Person", "Company"),
    "LIKES": ("Person", "Post"),
}


def write(graph: dict, out_dir: str) -> None:
    """Write one CSV per label / type and meta.json into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    for name, header in HEADERS.items():
        with open(os.path.join(out_dir, f"{name}.csv"), "w", encoding="utf-8") as f:
            f.write(header + "\n")
            for row in graph[name]:
                f.write(",".join(str(v) for v in row) + "\n")
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected_answers(graph), f)
    with open(os.path.join(out_dir, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(graph["meta"], f, indent=2, sort_keys=True)


def read_csv(data_dir: str, name: str) -> list[tuple]:
    """Read one generated CSV back as typed tuples (ints where the header says so)."""
    int_cols = {"id", "age", "length", "from", "to", "since"}
    with open(os.path.join(data_dir, f"{name}.csv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split(",")
        conv = [int if h in int_cols else str for h in header]
        return [tuple(c(v) for c, v in zip(conv, line.rstrip("\n").split(","))) for line in f]


def ensure(persons: int, seed: int, root: str) -> str:
    """The dataset directory for (persons, seed) under root, generated if missing."""
    out_dir = os.path.join(root, f"persons-{persons}-seed-{seed}-v{FORMAT_VERSION}")
    if not os.path.exists(os.path.join(out_dir, "meta.json")):
        write(generate(persons, seed), out_dir)
    return out_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    write(generate(args.persons, args.seed), args.out)
    print(json.dumps(json.load(open(os.path.join(args.out, "meta.json"))), indent=2))


if __name__ == "__main__":
    main()
