"""Search the knowledge base with what the caller said.

Words: BM25 (bm25s) over four views of each article — title and question variants as jieba words,
as character bigrams and as sound bigrams (homophone errors), and the answer as character
bigrams — after adding the official terms for the caller's colloquial words and the KB
words their homophones stand for (kb.homophones).  The best 30
are re-ranked by how much of the matter's name (the title without its sub-task) the caller
said (rapidfuzz partial ratio), and lose `ACTION_PENALTY` for each action in the title
(查询, 进度, 预约, 补领 … kb/data/actions.txt) the caller gave no sign of wanting: many articles
are siblings that differ only by it.  Confidence combines, for the top article, the raw BM25
score per query bigram and per query word (how much of what was said the title explains)
and that partial ratio; below `MIN_CONFIDENCE` the answer is "no confident answer".

Meaning: when sentence vectors are available (kb.embed), the caller's words are also encoded
with multilingual-e5-small (int8, one core: kb.e5) and compared with each article's title and
answer vectors.  Both scores are standardised over the knowledge base and summed, the vectors weighted
`DENSE_WEIGHT` times the words (paraphrases share meaning, not words; the words still
separate sibling sub-tasks), and the similarity of the best article joins the confidence.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
from rapidfuzz import fuzz

from common.paths import data_dir

from .articles import Article
from .embed import ArticleVectors, Embedder, Progress, VectorFile, load_embedder
from .homophones import HomophoneWords
from .text import SoundBigrams, bigrams, clean, expand, title_actions, unsaid_actions, words

WEIGHTS = {"head_words": 1.0, "head_bigrams": 1.0, "body_bigrams": 0.3, "head_sound": 0.5}
RERANK_WEIGHT = 0.6
CANDIDATES = 30
MIN_CONFIDENCE = 0.50
FULL_EVIDENCE = {"head_bigrams": 0.5, "head_words": 0.8, "title": 60.0}  # a signal at 1.0
DENSE_WEIGHT = 15.0
DENSE_RERANK_WEIGHT = 2.0
SIMILARITY_RANGE = (1.72, 1.82)  # head + body cosine: no evidence … full evidence
ACTION_PENALTY = 10.0
PASSAGE_CHARS = 120
_SUBTASK = re.compile(r"[（(].*$")
_SENTENCES = re.compile(r"(?<=[。；;\n])")


@dataclass(frozen=True)
class KbHit:
    article: Article
    score: float
    confidence: float
    passage: str  # the part of the answer that matches best
    highlighted: str  # the passage with matched words in 【】


@dataclass(frozen=True)
class KbResult:
    text: str
    hits: tuple[KbHit, ...]
    confident: bool
    elapsed_ms: float

    @property
    def best(self) -> KbHit | None:
        return self.hits[0] if self.confident else None


def _bm25(corpus: list[list[str]]) -> bm25s.BM25:
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index([doc or ["\u0000"] for doc in corpus], show_progress=False)
    return retriever


def _standardised(scores: np.ndarray) -> np.ndarray:
    spread = scores.std()
    return (scores - scores.mean()) / spread if spread > 0 else scores * 0.0


class KnowledgeIndex:
    def __init__(self, articles: list[Article], vectors: ArticleVectors | None = None,
                 embedder: Embedder | None = None):
        if not articles:
            raise ValueError("the knowledge base is empty: import articles first (hotline kb import)")
        self.articles = list(articles)
        if vectors is not None and len(vectors.heads) != len(self.articles):
            raise ValueError(f"{len(vectors.heads)} article vectors for {len(self.articles)} articles")
        self.vectors = vectors if embedder is not None else None
        self.embedder = embedder if vectors is not None else None
        self.sound = SoundBigrams()
        heads = [clean(a.title + " " + " ".join(a.questions)) for a in self.articles]
        bodies = [clean(a.answer[:400] + " " + a.department + " " + a.category) for a in self.articles]
        head_words = [words(h) for h in heads]
        self.homophones = HomophoneWords(heads, self.sound.key.key)
        self.views = {
            "head_words": (_bm25(head_words), words),
            "head_bigrams": (_bm25([bigrams(h) for h in heads]), bigrams),
            "body_bigrams": (_bm25([bigrams(b) for b in bodies]), bigrams),
            "head_sound": (_bm25([self.sound(h) for h in heads]), self.sound),
        }
        self._cores = [clean(_SUBTASK.sub("", a.title)) for a in self.articles]
        self._actions = [tuple(w for w in title_actions() if w in a.title) for a in self.articles]

    def _scores(self, text: str, text_words: list[str]) -> tuple[np.ndarray, dict[str, float]]:
        """Combined score per article, and the raw per-token scores of the head views."""
        total = np.zeros(len(self.articles))
        raw: dict[str, np.ndarray] = {}
        for name, (retriever, analyse) in self.views.items():
            tokens = text_words if analyse is words else analyse(text)
            if not tokens:
                continue
            scores = retriever.get_scores(tokens)
            raw[name] = scores / len(tokens)
            top = scores.max()
            if top > 0:
                total += WEIGHTS[name] * scores / top
        return total, raw

    @property
    def uses_vectors(self) -> bool:
        return self.vectors is not None

    def confidence(self, raw: dict[str, np.ndarray], i: int, title_ratio: float,
                   similarity: np.ndarray | None = None) -> float:
        signals = [min(1.0, float(raw[name][i]) / FULL_EVIDENCE[name]) if name in raw else 0.0
                   for name in ("head_bigrams", "head_words")]
        signals.append(min(1.0, title_ratio / FULL_EVIDENCE["title"]))
        words_said = sum(signals) / len(signals)
        if similarity is None:
            return words_said
        low, high = SIMILARITY_RANGE  # meaning weighs as much as the three word signals
        return (words_said + min(1.0, max(0.0, (float(similarity[i]) - low) / (high - low)))) / 2

    def search(self, text: str, k: int = 3, today: dt.date | None = None) -> KbResult:
        started = time.perf_counter()
        cleaned = clean(text)
        heard = self.homophones(cleaned)
        query = expand(cleaned) + (" " + " ".join(heard) if heard else "")
        # the caller's words come first in `query`, the official terms and the KB words their
        # homophones stand for after them
        query_words, query_bigrams = words(query), bigrams(query)
        if not query_words and not query_bigrams:
            return KbResult(text, (), False, (time.perf_counter() - started) * 1000)
        scores, raw = self._scores(query, query_words)
        similarity, rerank_weight = None, RERANK_WEIGHT
        if self.vectors is not None:
            similarity = self.vectors.similarity(self.embedder.query(cleaned))
            scores = _standardised(scores) + DENSE_WEIGHT * _standardised(similarity)
            rerank_weight = DENSE_RERANK_WEIGHT
        order = np.argsort(-scores)[:CANDIDATES]
        ratios = {int(i): fuzz.partial_ratio(self._cores[i], query) for i in order
                  if scores[i] > 0 or similarity is not None}
        ranked = sorted(((scores[i] + rerank_weight * r / 100
                          - ACTION_PENALTY * unsaid_actions(self._actions[i], query), i)
                         for i, r in ratios.items()), reverse=True)
        day = today or dt.date.today()
        hits = []
        for score, i in ranked:
            article = self.articles[i]
            if not article.valid_on(day):
                continue
            passage, highlighted = self.passage(article, query_words, query_bigrams)
            hits.append(KbHit(article, round(float(score), 3),
                              round(self.confidence(raw, i, ratios[i], similarity), 3), passage, highlighted))
            if len(hits) == k:
                break
        confident = bool(hits) and hits[0].confidence >= MIN_CONFIDENCE
        return KbResult(text, tuple(hits), confident, (time.perf_counter() - started) * 1000)

    @staticmethod
    def passage(article: Article, query_words: list[str], query_bigrams: list[str]) -> tuple[str, str]:
        """The answer sentence sharing most with what was said, and it with the words marked."""
        terms = sorted({w for w in query_words if len(w) >= 2}, key=len, reverse=True)
        grams = set(query_bigrams)
        _, best = max(_sentences(article.answer),
                      key=lambda s: (sum(g in s[0] for g in grams), sum(len(t) for t in terms if t in s[0])))
        passage = best[:PASSAGE_CHARS] + ("…" if len(best) > PASSAGE_CHARS else "")
        highlighted = passage
        for term in terms:
            if term in highlighted.lower() and f"【{term}" not in highlighted:
                highlighted = re.sub(re.escape(term), lambda m: f"【{m.group()}】", highlighted,
                                     flags=re.I)
        return passage, highlighted


@lru_cache(maxsize=4096)
def _sentences(answer: str) -> tuple[tuple[str, str], ...]:
    """The answer's sentences, each as (lower case, as written)."""
    sentences = [s.strip() for s in _SENTENCES.split(answer) if s.strip()] or [answer]
    return tuple((s.lower(), s) for s in sentences)


def file_index(articles: list[Article], vector_file: Path | None = None,
               progress: Progress | None = None) -> KnowledgeIndex:
    """The index of a KB read from a file, with sentence vectors when the model is available
    (computed once per article version and cached in `vector_file`)."""
    embedder, _ = load_embedder()
    if embedder is None or not articles:
        return KnowledgeIndex(articles)
    model = embedder.name.replace("/", "_")
    cache = VectorFile(vector_file or data_dir() / f"kb-vectors-{model}.npz")
    return KnowledgeIndex(articles, cache.vectors(embedder, articles, progress), embedder)
