"""Evaluation of KB search on a question TSV (question_id, text, gold_article_ids)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from common.csvfile import csv_rows
from common.metrics import percentile

NONE = "NONE"


@dataclass(frozen=True)
class Question:
    question_id: str
    text: str
    gold: frozenset[str]  # acceptable article ids; empty when no article answers


def read_questions(path: Path) -> list[Question]:
    with csv_rows(path, ("question_id", "text", "gold_article_ids"), delimiter="\t") as reader:
        out = []
        for row in reader:
            gold = (row["gold_article_ids"] or NONE).strip()
            ids = frozenset() if gold == NONE else frozenset(g.strip() for g in gold.split(";") if g.strip())
            out.append(Question(row["question_id"], row["text"], ids))
        return out


def evaluate(questions: Iterable[Question], predict: Callable[[str], tuple[list[str], bool]]) -> dict:
    """recall@1: the confident first article is acceptable (gold NONE: nothing confident);
    recall@3 and MRR over the three shown, confident or not."""
    n = r1 = r3 = said_none = none_right = gold_none = 0
    rr = 0.0
    latencies = []
    for q in questions:
        started = time.perf_counter()
        ids, confident = predict(q.text)
        latencies.append((time.perf_counter() - started) * 1000)
        n += 1
        if not q.gold:
            gold_none += 1
            said_none += not confident
            if not confident:
                none_right += 1
                r1 += 1
                r3 += 1
                rr += 1
            continue
        said_none += not confident
        r1 += confident and bool(ids) and ids[0] in q.gold
        ranks = [i for i, a in enumerate(ids[:3], 1) if a in q.gold]
        r3 += bool(ranks)
        rr += 1 / ranks[0] if ranks else 0.0
    return {
        "n": n,
        "recall1": round(r1 / n, 4) if n else 0.0,
        "recall3": round(r3 / n, 4) if n else 0.0,
        "mrr": round(rr / n, 4) if n else 0.0,
        "none_precision": round(none_right / said_none, 4) if said_none else None,
        "none_recall": round(none_right / gold_none, 4) if gold_none else None,
        "p50_ms": round(percentile(latencies, 0.5), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
    }


def index_predict(index, k: int = 3) -> Callable[[str], tuple[list[str], bool]]:
    def predict(text: str) -> tuple[list[str], bool]:
        result = index.search(text, k, today=None)
        return [h.article.id for h in result.hits], result.confident
    return predict
