"""The learned candidate ranker: exported trees that score as scikit-learn does, a model
file checked on load, and the matcher reading exactly the features the model was fitted on."""

import json

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from geo.gazetteer import read_csv
from geo.index import AddressIndex
from geo.matcher import AddressMatcher
from geo.ranker import FEATURES, MODEL, Ranker, RankerFileError
from geo.service import DEMO_GAZETTEER


def test_exported_trees_give_scikit_learns_probabilities(tmp_path):
    rng = np.random.default_rng(7)
    features = rng.normal(size=(3000, len(FEATURES)))
    labels = features[:, 0] + 0.5 * features[:, 3] * features[:, 7] + rng.normal(scale=0.3, size=3000) > 0
    model = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=0).fit(features, labels)
    ranker = Ranker.from_sklearn(model, {"on": "test"})
    unseen = rng.normal(size=(500, len(FEATURES)))
    assert np.allclose(ranker.probability(unseen), model.predict_proba(unseen)[:, 1])
    ranker.save(tmp_path / "ranker.json")
    again = Ranker.load(tmp_path / "ranker.json")
    assert np.array_equal(again.probability(unseen), ranker.probability(unseen))
    assert again.fitted == {"on": "test"}
    # a value right at a split point goes the same way after saving (thresholds rounded in the
    # file had sent some the other way: the shipped model was not quite the fitted one)
    splits = [(f, t) for f, t, leaf in zip(ranker.feature, ranker.threshold, ranker.leaf) if not leaf]
    at_splits = np.tile(unseen[:1], (len(splits), 1))
    for i, (f, t) in enumerate(splits):
        at_splits[i, f] = t
    assert np.allclose(again.probability(at_splits), model.predict_proba(at_splits)[:, 1])


def test_a_bad_model_file_is_refused_with_its_path(tmp_path):
    broken = tmp_path / "ranker.json"
    broken.write_bytes(b"\x00not json")
    with pytest.raises(RankerFileError, match="ranker.json"):
        Ranker.load(broken)
    doc = json.loads(MODEL.read_text(encoding="utf-8"))
    doc["features"] = doc["features"][:-1]
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(RankerFileError, match="refit"):
        Ranker.load(other)
    doc = json.loads(MODEL.read_text(encoding="utf-8"))
    doc["left"] = doc["left"][:-1]
    other.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(RankerFileError, match="lengths"):
        Ranker.load(other)


def test_the_shipped_model_reads_what_the_matcher_computes():
    ranker = Ranker.load()
    assert ranker.fitted["trees"] > 10 and ranker.fitted["right"] > 1000
    matcher = AddressMatcher(AddressIndex.build(read_csv(DEMO_GAZETTEER)), ranker=ranker)
    found = matcher.candidate_features("张店区松龄花园三号楼")
    assert found and all(len(features) == len(FEATURES) for _, features in found)
    p = ranker.probability([features for _, features in found])
    assert ((0 < p) & (p < 1)).all()


def test_a_damaged_shipped_model_leaves_the_hand_rule_and_says_so(tmp_path, monkeypatch, caplog):
    import geo.ranker

    damaged = tmp_path / "ranker.json"
    damaged.write_text('{"features": [', encoding="utf-8")
    monkeypatch.setattr(geo.ranker, "MODEL", damaged)
    matcher = AddressMatcher(AddressIndex.build(read_csv(DEMO_GAZETTEER)))
    assert matcher.ranker is None
    assert "ranker not loaded" in caplog.text and "ranker.json" in caplog.text
    result = matcher.match_uncached("那个松龄花园三号楼二单元楼道漏水")
    assert result.confident and result.best.address.address_code == "370303009001200103"
