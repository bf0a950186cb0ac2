"""双随机: random inspection targets weighted by grade, and random inspectors for each (pure).

分级分类监管 draws the enterprises a department inspects at random, more often the worse their
public credit grade, and sends inspectors drawn at random from its officers. A draw must be
auditable, so it is a pure function of its inputs and a seed the platform records:

1. the candidates, in id order, each with its grade; those whose grade weighs 0 are left out;
2. each remaining candidate draws ``u = rng.random()`` in that order and gets the key
   ``u ** (1 / weight)``; the ``count`` candidates with the largest keys are the targets, largest
   first (Efraimidis and Spirakis, "Weighted random sampling with a reservoir", 2006: each draw
   picks a candidate with probability proportional to its weight among those left);
3. for each target in that order, ``rng.sample`` picks the inspectors from the officers who may
   inspect it (in id order; not a member of the enterprise).

``rng`` is ``random.Random(seed)``. Re-running with the recorded seed, the same candidates and the
same officers gives the same draw; ``candidates_digest`` fingerprints the candidates.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GRADES = ("A", "B", "C", "D")
DEFAULT_WEIGHTS: Mapping[str, int] = {"A": 1, "B": 2, "C": 4, "D": 8}


@dataclass(frozen=True)
class Target:
    org_id: str
    grade: str
    inspectors: tuple[str, ...]


class NotEnoughInspectors(ValueError):
    def __init__(self, org_id: str, available: int) -> None:
        super().__init__(f"{available} officers may inspect {org_id}")
        self.org_id = org_id
        self.available = available


def parse_weights(text: str) -> dict[str, int]:
    """``"1,2,4,8"`` (A, B, C, D) as a mapping; ValueError unless four non-negative integers, not all 0."""
    values = [int(part) for part in text.split(",")]
    weights = dict(zip(GRADES, values, strict=True))
    if any(w < 0 for w in values) or not any(values):
        raise ValueError(f"bad inspection weights {text!r}")
    return weights


def candidates_digest(candidates: Sequence[tuple[str, str]]) -> str:
    """SHA-256 of the candidates as ``id:grade`` lines in id order."""
    lines = "".join(f"{org_id}:{grade}\n" for org_id, grade in sorted(candidates))
    return hashlib.sha256(lines.encode()).hexdigest()


def draw(*, candidates: Sequence[tuple[str, str]], weights: Mapping[str, int], count: int,
         officers: Sequence[str], conflicts: Mapping[str, frozenset[str]], inspectors_per_target: int,
         seed: int) -> list[Target]:
    """The targets and their inspectors; ``conflicts`` maps an enterprise to the officers who may
    not inspect it. Raises NotEnoughInspectors when a target has fewer eligible officers than asked."""
    rng = random.Random(seed)
    keyed = []
    for org_id, grade in sorted(candidates):
        weight = weights.get(grade, 0)
        if weight > 0:
            keyed.append((rng.random() ** (1 / weight), org_id, grade))
    keyed.sort(key=lambda k: (-k[0], k[1]))
    staff = sorted(officers)
    targets = []
    for _key, org_id, grade in keyed[:count]:
        eligible = [o for o in staff if o not in conflicts.get(org_id, frozenset())]
        if len(eligible) < inspectors_per_target:
            raise NotEnoughInspectors(org_id, len(eligible))
        targets.append(Target(org_id, grade, tuple(rng.sample(eligible, inspectors_per_target))))
    return targets
