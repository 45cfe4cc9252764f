"""The learned last step of address matching: which candidate the words point at, and
whether that is sure enough to say.

Why: hand thresholds on a score (MIN_SCORE, MIN_MARGIN) either abstained on many real
addresses or answered invented ones; a small boosted-tree model over each candidate's
evidence (how well its name was heard, its margin over other places, the district or town
said with it, its number…) tells the two apart better, and its probability is what
"confident" means: more likely right than wrong.  It is fitted by `bench/geo_fit.py --ranker`
on self-made noise (`geo.hardset`, build split) and the build half of the real listing
strings — never on dev — and shipped as plain JSON (`geo/data/ranker.json`); evaluating it
needs only numpy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL = Path(__file__).parent / "data" / "ranker.json"
CONFIDENT_P = 0.5  # confident when the model thinks the answer more likely right than wrong
RERANK = 5  # how many of the score-ordered candidates the model looks at

# The evidence the model reads, in order (geo.matcher.AddressMatcher._features computes them).
FEATURES = (
    "anchor", "numbers", "margin", "anchor_margin", "ties", "behind_top", "first_by_score",
    "heard", "heard_exact", "heard_homophone", "heard_fuzzy", "name_length", "is_compound",
    "is_community", "is_road", "is_short_form", "short_stem", "road_like", "supports",
    "conflict", "numbered", "building", "village_house", "name_before", "intersection",
    "places_heard", "log_candidates", "characters_agree", "span_ratio",
    "relation_after", "its_building_said", "unknown_building_said", "road_word_after",
    "inside_longer", "covers_other", "road_heard", "name_after",
)


class RankerFileError(ValueError):
    """The model file is unreadable or was made for other features."""


@dataclass(frozen=True)
class Ranker:
    """Boosted trees, all nodes in flat arrays, so every tree is walked at once."""

    baseline: float
    roots: np.ndarray  # node index of each tree's root
    feature: np.ndarray
    threshold: np.ndarray  # go left when the feature is <= this
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    depth: int
    fitted: dict  # how and on what it was fitted, for the README and `hotline geo eval`

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """P(right) for each row of features."""
        rows = np.asarray(rows, dtype=np.float64)
        node = np.tile(self.roots, (len(rows), 1))
        at = np.arange(len(rows))[:, None]
        for _ in range(self.depth):
            go_left = rows[at, self.feature[node]] <= self.threshold[node]
            node = np.where(self.leaf[node], node, np.where(go_left, self.left[node], self.right[node]))
        raw = np.clip(self.baseline + self.value[node].sum(axis=1), -50.0, 50.0)  # exp stays finite
        return 1.0 / (1.0 + np.exp(-raw))

    @classmethod
    def from_sklearn(cls, model, fitted: dict) -> "Ranker":
        """From a fitted sklearn HistGradientBoostingClassifier (binary, numeric features)."""
        parts = {k: [] for k in ("feature", "threshold", "left", "right", "leaf", "value")}
        roots, offset, depth = [], 0, 0
        for (tree,) in model._predictors:
            nodes = tree.nodes
            roots.append(offset)
            parts["feature"].append(nodes["feature_idx"])
            parts["threshold"].append(nodes["num_threshold"])
            parts["left"].append(nodes["left"] + offset)
            parts["right"].append(nodes["right"] + offset)
            parts["leaf"].append(nodes["is_leaf"].astype(bool))
            parts["value"].append(np.where(nodes["is_leaf"], nodes["value"], 0.0))
            depth = max(depth, int(nodes["depth"].max()))
            offset += len(nodes)
        arrays = {k: np.concatenate(v) for k, v in parts.items()}
        baseline = float(np.ravel(model._baseline_prediction)[0])
        return cls(baseline, np.array(roots), depth=depth, fitted=fitted, **arrays)

    def save(self, path: Path | None = None) -> None:
        path = path or MODEL
        doc = {"features": list(FEATURES), "baseline": self.baseline, "depth": self.depth,
               "fitted": self.fitted, "roots": self.roots.tolist(),
               "feature": self.feature.tolist(), "threshold": [float(t) for t in self.threshold],
               "left": self.left.tolist(), "right": self.right.tolist(),
               "leaf": self.leaf.astype(int).tolist(), "value": [float(v) for v in self.value]}
        path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | None = None) -> "Ranker":
        path = path or MODEL
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if tuple(doc["features"]) != FEATURES:
                raise RankerFileError(f"{path}: fitted for other features; refit with "
                                      "`python bench/geo_fit.py --ranker`")
            n = len(doc["feature"])
            if any(len(doc[k]) != n for k in ("threshold", "left", "right", "leaf", "value")):
                raise RankerFileError(f"{path}: node arrays of different lengths")
            return cls(float(doc["baseline"]), np.array(doc["roots"], dtype=np.int64),
                       np.array(doc["feature"], dtype=np.int64), np.array(doc["threshold"], dtype=np.float64),
                       np.array(doc["left"], dtype=np.int64), np.array(doc["right"], dtype=np.int64),
                       np.array(doc["leaf"], dtype=bool), np.array(doc["value"], dtype=np.float64),
                       int(doc["depth"]), dict(doc.get("fitted", {})))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, RankerFileError):
                raise
            raise RankerFileError(f"{path}: not a ranker model ({exc})") from exc
