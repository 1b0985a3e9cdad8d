"""Answer checking: normalise each system's rows, find the agreed answer, flag the rest.

Normalisation: columns are put in name order (every query aliases its columns, so the names
agree); integral floats become ints (Kuzu's ``avg`` of ints vs another system's); other
floats are rounded to 9 significant digits, which is the numeric tolerance; rows are sorted
unless the query's ORDER BY is total (then order is part of the answer).

The agreed answer is the one most systems gave. With a single answer it is taken as is
("unchecked"); when no answer is shared by two systems out of several, there is no agreed
answer and every system is flagged, since nobody can be trusted.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict


def canon_value(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isfinite(v) and v == int(v) and abs(v) < 2**53:
            return int(v)
        return float(f"{v:.9g}") if math.isfinite(v) else repr(v)
    if isinstance(v, (list, tuple)):
        return [canon_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): canon_value(x) for k, x in sorted(v.items())}
    return str(v)


def canon_rows(columns: list[str], rows: list[list], ordered: bool) -> list[list]:
    order = sorted(range(len(columns)), key=lambda i: columns[i])
    out = [[canon_value(r[i]) for i in order] for r in rows]
    if not ordered:
        out.sort(key=lambda r: json.dumps(r, sort_keys=True))
    return out


def digest(rows: list[list]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:12]


def agree(answers: dict[str, list[list]]) -> tuple[str | None, dict[str, str]]:
    """(digest of the agreed answer or None, {system: "ok"|"unchecked"|"MISMATCH"})."""
    if not answers:
        return None, {}
    groups = defaultdict(list)
    for system, rows in answers.items():
        groups[digest(rows)].append(system)
    if len(answers) == 1:
        (d, members), = groups.items()
        return d, {members[0]: "unchecked"}
    ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    best, members = ranked[0]
    tied = len(ranked) > 1 and len(ranked[1][1]) == len(members)
    if len(members) < 2 or tied:
        return None, {s: "MISMATCH" for s in answers}
    return best, {s: ("ok" if s in members else "MISMATCH") for s in answers}
