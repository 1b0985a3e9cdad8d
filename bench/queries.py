"""The benchmark's query suite: one place that says what is measured.

Each `Query` has one openCypher text that nereid runs (Neptune openCypher) and that the peers
run too unless a per-system variant is given: Kuzu and LadybugDB spell shortest path as
``-[e:KNOWS* SHORTEST 1..30]->``, FalkorDB takes ``shortestPath`` only as a function in
RETURN/WITH. Every variant asks the same question and must give the same answer.

Rules that keep answers comparable across systems:

* every column is aliased (Kuzu would otherwise name ``count(*)`` ``COUNT_STAR()``); answers
  are compared by position, not by column name;
* `ordered=True` only where the ORDER BY is total (ties broken by a unique key), so row order
  is part of the answer; otherwise rows are sorted before comparing;
* nodes and relationships are never returned, only their properties (their encodings differ);
* parameters are only the ones the text uses (Kuzu rejects unused ones).

Read queries come first; the writes come last so they cannot change an earlier answer. A
write's parameters may depend on the run number (`run` in `params_for`), so that repeated runs
do not collide on a primary key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

# System names as the harness uses them.
NEREID, KUZU, LADYBUG, FALKORDB = "nereid", "kuzu", "ladybug", "falkordb"


@dataclass(frozen=True)
class Query:
    name: str
    what: str
    cypher: str
    params: Callable[[dict, int], dict] = lambda p, run: {}
    ordered: bool = False
    write: bool = False
    variants: dict = field(default_factory=dict)

    def text_for(self, system: str) -> str:
        return self.variants.get(system, self.cypher)

    def params_for(self, system: str, meta_params: dict, run: int) -> dict:
        """The parameters for one run, restricted to the ones this system's text uses."""
        used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", self.text_for(system)))
        return {k: v for k, v in self.params(meta_params, run).items() if k in used}


KUZU_SHORTEST = (
    "MATCH (a:Person {id: $a})-[e:KNOWS* SHORTEST 1..30]->(b:Person {id: $b}) "
    "RETURN length(e) AS len"
)

QUERIES: list[Query] = [
    Query(
        "point_lookup",
        "point lookup by property",
        "MATCH (p:Person {id: $id}) RETURN p.name AS name, p.age AS age, p.email AS email",
        lambda p, run: {"id": p["ordinary"]},
    ),
    Query(
        "one_hop_ordered",
        "1-hop neighbours (both directions) of a popular person, ordered",
        "MATCH (p:Person {id: $id})-[:KNOWS]-(f:Person) "
        "RETURN f.id AS id, f.name AS name ORDER BY id, name",
        lambda p, run: {"id": p["popular"]},
        ordered=True,
    ),
    Query(
        "two_hop_distinct",
        "2-hop friends-of-friends, distinct count",
        "MATCH (p:Person {id: $id})-[:KNOWS]->(:Person)-[:KNOWS]->(f:Person) "
        "WHERE f.id <> p.id RETURN count(DISTINCT f.id) AS n",
        lambda p, run: {"id": p["ordinary"]},
    ),
    Query(
        "three_hop_distinct",
        "3-hop KNOWS paths, distinct persons reached",
        "MATCH (p:Person {id: $id})-[:KNOWS]->(:Person)-[:KNOWS]->(:Person)-[:KNOWS]->(f:Person) "
        "RETURN count(DISTINCT f.id) AS n",
        lambda p, run: {"id": p["ordinary"]},
    ),
    Query(
        "city_top10",
        "count per group, top 10 (persons per city)",
        "MATCH (p:Person)-[:LIVES_IN]->(c:City) "
        "RETURN c.name AS city, count(*) AS n ORDER BY n DESC, city LIMIT 10",
        ordered=True,
    ),
    Query(
        "filter_order_limit",
        "filter + ORDER BY + LIMIT 20",
        "MATCH (p:Person) WHERE p.age >= 30 AND p.age < 35 "
        "RETURN p.id AS id, p.name AS name, p.age AS age ORDER BY name, id LIMIT 20",
        ordered=True,
    ),
    Query(
        "varlen_1_3",
        "variable-length KNOWS*1..3, distinct persons reached",
        "MATCH (p:Person {id: $id})-[:KNOWS*1..3]->(f:Person) RETURN count(DISTINCT f.id) AS n",
        lambda p, run: {"id": p["ordinary"]},
    ),
    Query(
        "shortest_path",
        "shortest directed KNOWS path between two far-apart persons, its length",
        "MATCH p = shortestPath((a:Person {id: $a})-[:KNOWS*]->(b:Person {id: $b})) "
        "RETURN length(p) AS len",
        lambda p, run: {"a": p["sp_from"], "b": p["sp_to"]},
        variants={
            KUZU: KUZU_SHORTEST,
            LADYBUG: KUZU_SHORTEST,
            FALKORDB: "MATCH (a:Person {id: $a}), (b:Person {id: $b}) "
            "WITH shortestPath((a)-[:KNOWS*]->(b)) AS p RETURN length(p) AS len",
        },
    ),
    Query(
        "triangles",
        "directed KNOWS triangle count (whole graph)",
        "MATCH (a:Person)-[:KNOWS]->(b:Person)-[:KNOWS]->(c:Person)-[:KNOWS]->(a) "
        "RETURN count(*) AS n",
    ),
    Query(
        "optional_match",
        "OPTIONAL MATCH: employer of the first 200 persons (null when none)",
        "MATCH (p:Person) WHERE p.id <= 200 OPTIONAL MATCH (p)-[:WORKS_AT]->(c:Company) "
        "RETURN p.id AS id, c.name AS company ORDER BY id",
        ordered=True,
    ),
    Query(
        "rel_aggregation",
        "aggregation over relationship properties (all KNOWS)",
        "MATCH (:Person)-[k:KNOWS]->(:Person) "
        "RETURN count(k) AS n, min(k.since) AS first, max(k.since) AS last, avg(k.since) AS mean",
    ),
    Query(
        "string_predicate",
        "string predicates STARTS WITH and CONTAINS",
        "MATCH (p:Person) WHERE p.name STARTS WITH $prefix AND p.email CONTAINS $frag "
        "RETURN count(*) AS n",
        lambda p, run: {"prefix": p["name_prefix"], "frag": p["email_fragment"]},
    ),
    Query(
        "top_in_degree",
        "10 most-followed persons (in-degree), whole graph",
        "MATCH (:Person)-[:KNOWS]->(p:Person) "
        "RETURN p.id AS id, count(*) AS deg ORDER BY deg DESC, id LIMIT 10",
        ordered=True,
    ),
    Query(
        "friends_likes",
        "posts liked by a hub's neighbours, top 10",
        "MATCH (p:Person {id: $id})-[:KNOWS]-(:Person)-[:LIKES]->(post:Post) "
        "RETURN post.id AS post, count(*) AS n ORDER BY n DESC, post LIMIT 10",
        lambda p, run: {"id": p["hub"]},
        ordered=True,
    ),
    Query(
        "company_cities",
        "3-label join with filter: companies by distinct cities of their over-60s",
        "MATCH (c:Company)<-[:WORKS_AT]-(p:Person)-[:LIVES_IN]->(city:City) WHERE p.age > 60 "
        "RETURN c.name AS company, count(DISTINCT city.id) AS cities "
        "ORDER BY cities DESC, company LIMIT 10",
        ordered=True,
    ),
    Query(
        "write_set",
        "write: SET a property on one person (idempotent)",
        "MATCH (p:Person {id: $id}) SET p.age = $age RETURN p.age AS age",
        lambda p, run: {"id": p["ordinary"], "age": 42},
        write=True,
    ),
    Query(
        "write_create",
        "write: create 100 Post nodes in one query",
        "UNWIND range(1, 100) AS i "
        "CREATE (x:Post {id: $base + i, title: 'bench post', length: i}) RETURN count(*) AS n",
        lambda p, run: {"base": 1_000_000_000 + 1000 * run},
        write=True,
    ),
]


def by_name(names: list[str] | None) -> list[Query]:
    """The suite, or the named subset of it (in suite order)."""
    if not names:
        return list(QUERIES)
    unknown = set(names) - {q.name for q in QUERIES}
    if unknown:
        raise SystemExit(f"unknown queries: {sorted(unknown)}")
    return [q for q in QUERIES if q.name in names]
