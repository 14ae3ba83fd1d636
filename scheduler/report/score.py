"""A station's score for ranking, adjusted for how many feedback it rests on.

The score is the average of staff behaviour and overall experience (1-5). Averaged
plainly, a chowki with two delighted visitors would outrank a busy thana with two
hundred mostly happy ones. So each station's average is pulled towards the district's
as if it had `weight` more feedback at the district's average (a Bayesian average):
with few feedback a station stays near the district, with many its own average counts.
The weight is the digests' `min_responses_to_rank`, the number of feedback the district
already trusts to rank a station on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from storage.digest import StationNumbers

KINDS = ("thana", "chowki", "office")  # ranked separately, in this order


def plain_score(n: StationNumbers) -> float | None:
    """Behaviour and experience averaged (both are asked in every complete feedback)."""
    known = [v for v in (n.behaviour, n.satisfaction) if v is not None]
    return sum(known) / len(known) if known else None


def adjusted_score(n: StationNumbers, district: float | None, weight: int) -> float | None:
    """The station's score pulled towards the district's by `weight` feedback."""
    own = plain_score(n)
    if own is None or not n.complete:
        return None
    if district is None:
        return own
    return (own * n.complete + district * weight) / (n.complete + weight)


def ranks(kinds: Mapping[str, str], numbers: Mapping[str, StationNumbers],
          scores: Mapping[str, float | None], minimum: int) -> dict[str, int]:
    """Each station's place among its kind (thanas, chowkis, offices), best first; only
    stations with at least `minimum` complete feedback are ranked. Equal scores: the
    one resting on more feedback first, then by code, so the order never flickers."""
    placed: dict[str, int] = {}
    for kind in KINDS:
        ranked = [code for code, k in kinds.items() if k == kind and code in numbers
                  and numbers[code].complete >= minimum and scores.get(code) is not None]
        ranked.sort(key=lambda c: (-(scores[c] or 0.0), -numbers[c].complete, c))
        placed.update((code, place) for place, code in enumerate(ranked, start=1))
    return placed


def ranked_total(kinds: Mapping[str, str], placed: Iterable[str], kind: str) -> int:
    """How many stations of a kind were ranked: "3 of 12"."""
    return sum(1 for code in placed if kinds.get(code) == kind)
