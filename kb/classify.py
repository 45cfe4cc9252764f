"""Ticket type and category suggestion from the caller's words.

The type (咨询/求助/投诉/举报/建议/表扬) follows the cue words callers use.  The category is a
linear classifier (scikit-learn: TF-IDF over character 1–3-grams, logistic regression) that a
deployment trains on its own filed tickets; `cross_validate` measures the method on any
labelled set (accuracy and macro-F1, stratified k-fold).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # scikit-learn is imported where a model is made: every command would wait on it
    from sklearn.pipeline import Pipeline

# Cue words per type, strongest first; a consultation is the default.
_TYPE_CUES = (
    ("表扬", r"表扬|感谢|致谢|点赞|送锦旗|服务很好|态度很好"),
    ("举报", r"举报|违法|违规经营|偷排|非法|黑车|传销|诈骗|无证"),
    ("投诉", r"投诉|不作为|态度(?:差|恶劣|不好)|乱收费|扰民|噪音|太吵|拖欠|不给退|欺骗|坏了|没人管|不处理|漏水|堵了|停水|停电|不热"),
    ("求助", r"求助|救命|帮帮|被困|走失|困难|急需|没钱|怎么办"),
    ("建议", r"建议|希望能|能不能增加|应该增设|提个意见|设个"),
)


@dataclass(frozen=True)
class Suggestion:
    value: str
    confidence: float


def suggest_type(text: str) -> Suggestion:
    hits = [(name, len(re.findall(pattern, text))) for name, pattern in _TYPE_CUES]
    hits = [(name, n) for name, n in hits if n]
    if not hits:
        return Suggestion("咨询", 0.5)
    name, n = max(hits, key=lambda h: h[1])
    total = sum(n for _, n in hits)
    return Suggestion(name, round(min(0.95, 0.55 + 0.4 * n / total * min(1.0, n / 2)), 2))


def new_model() -> Pipeline:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2),
        LogisticRegression(max_iter=2000, C=10.0, class_weight="balanced"),
    )


class CategoryModel:
    """A trained category classifier; `suggest` gives the label and its probability."""

    def __init__(self, texts: list[str], labels: list[str]):
        if len(set(labels)) < 2:
            raise ValueError("need examples of at least two categories to train")
        with warnings.catch_warnings():  # one example per category is normal before tickets exist
            warnings.simplefilter("ignore", UserWarning)
            self.model = new_model().fit(texts, labels)

    def suggest(self, text: str) -> Suggestion:
        proba = self.model.predict_proba([text])[0]
        best = int(np.argmax(proba))
        return Suggestion(str(self.model.classes_[best]), round(float(proba[best]), 3))


def cross_validate(texts: list[str], labels: list[str], folds: int = 5, seed: int = 12345) -> dict:
    """Stratified k-fold accuracy and macro-F1 of the category classifier."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    y = np.array(labels)
    predicted = np.empty_like(y)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y):
        model = new_model().fit([texts[i] for i in train], y[train])
        predicted[test] = model.predict([texts[i] for i in test])
    return {"n": len(texts), "classes": len(set(labels)), "folds": folds,
            "accuracy": round(float(accuracy_score(y, predicted)), 4),
            "macro_f1": round(float(f1_score(y, predicted, average="macro")), 4)}
