"""Evaluation of the matcher on a query TSV (query_id, text, gold_address_code)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from common.csvfile import csv_rows
from common.metrics import percentile

from .matcher import AddressMatcher

NONE = "NONE"


@dataclass(frozen=True)
class Query:
    query_id: str
    text: str
    gold: str
    ambiguous: bool = False  # the text cannot pick out its gold place: no confident answer is right


def read_queries(path: Path, with_district: bool = False) -> list[Query]:
    """A query TSV; an `ambiguous` column (yes/no) marks texts that cannot identify their
    gold row, and `with_district` prefixes a `district` column to the text (a caller who
    says the district, as in real_listing_dev.tsv)."""
    with csv_rows(path, ("query_id", "text", "gold_address_code"), delimiter="\t") as reader:
        return [Query(r["query_id"], (r.get("district") or "" if with_district else "") + r["text"],
                      (r["gold_address_code"] or NONE).strip(), r.get("ambiguous") == "yes")
                for r in reader]


def evaluate(queries: Iterable[Query], predict: Callable[[str], tuple[list[str], bool]],
             same: Callable[[str, str], bool] = lambda code, gold: code == gold) -> dict:
    """`predict` returns the ranked codes and whether the first is a confident match.

    top1: the confident first code is the gold one (for gold NONE: nothing confident);
    top3: the gold code is among the three shown, confident or not (what the agent sees);
    queries marked ambiguous count apart (ambiguous_not_confident: no confident answer
    claimed, the right behaviour; ambiguous_confident_wrong: a confident wrong place).
    """
    n = top1 = top3 = said_none = none_right = gold_none = 0
    confident_n = confident_right = 0
    ambiguous_n = ambiguous_confident = ambiguous_right = 0
    latencies = []
    for q in queries:
        started = time.perf_counter()
        codes, confident = predict(q.text)
        latencies.append((time.perf_counter() - started) * 1000)
        if q.ambiguous:  # judged apart: only whether a confident answer was claimed
            ambiguous_n += 1
            ambiguous_confident += confident
            ambiguous_right += confident and same(codes[0], q.gold)
            continue
        n += 1
        gold_none += q.gold == NONE
        if not confident:
            said_none += 1
            if q.gold == NONE:
                none_right += 1
                top1 += 1
                top3 += 1
        elif q.gold != NONE:
            confident_n += 1
            right = same(codes[0], q.gold)
            top1 += right
            confident_right += right
        else:
            confident_n += 1
        if q.gold != NONE:
            top3 += any(same(c, q.gold) for c in codes[:3])
    real = n - gold_none
    result = {
        "n": n,
        "top1": round(top1 / n, 4) if n else 0.0,
        "top3": round(top3 / n, 4) if n else 0.0,
        "none_precision": round(none_right / said_none, 4) if said_none else None,
        "none_recall": round(none_right / gold_none, 4) if gold_none else None,
        "p50_ms": round(percentile(latencies, 0.5), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
        # what a confident answer is worth, and how often a real address gets none
        "confident_accuracy": round(confident_right / confident_n, 4) if confident_n else None,
        "abstain_on_real": round((said_none - none_right) / real, 4) if real else None,
    }
    if ambiguous_n:
        result.update(ambiguous_n=ambiguous_n,
                      ambiguous_not_confident=round(1 - ambiguous_confident / ambiguous_n, 4),
                      ambiguous_confident_wrong=round(
                          (ambiguous_confident - ambiguous_right) / ambiguous_n, 4))
    return result


def matcher_predict(matcher: AddressMatcher, k: int = 3) -> Callable[[str], tuple[list[str], bool]]:
    def predict(text: str) -> tuple[list[str], bool]:
        result = matcher.match_uncached(text, k)
        return [m.address.address_code for m in result.matches], result.confident
    return predict
