"""hotline kb import | vectors | export | search | eval | suggest | classify-eval: the knowledge base."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from common.csvfile import csv_rows
from common.heap import freeze_startup_heap
from kb.articles import read_articles, write_jsonl
from kb.classify import cross_validate, suggest_type
from kb.evaluate import evaluate, index_predict, read_questions
from kb.embed import load_embedder
from kb.search import KnowledgeIndex, file_index
from kb.library import import_articles, read_all, read_vectors, sync_vectors

from .common import article_vectors_progress, database, err, out, run

MAX_ERRORS_SHOWN = 20


def knowledge_index(kb_file: str | None) -> KnowledgeIndex:
    """The index of --kb FILE, else of the imported knowledge base (with sentence vectors
    when the model is available; missing ones are computed first, with progress)."""
    if kb_file:
        with article_vectors_progress() as progress:
            return file_index(list(read_articles(Path(kb_file))), progress=progress)
    async def load():
        async with database() as conn:
            articles = await read_all(conn)
            if not articles:
                return articles, None
            await store_vectors(conn, articles)
            embedder, _ = load_embedder()
            return articles, embedder and await read_vectors(conn, articles, embedder.name)

    articles, vectors = run(load())
    return KnowledgeIndex(articles, vectors, load_embedder()[0])


async def store_vectors(conn, articles=None) -> int:
    """Compute missing or stale article vectors (after an import), with progress."""
    embedder, problem = load_embedder()
    if embedder is None:
        err.print(f"[yellow]{escape(problem)}[/]: articles are searched by words only")
        return 0
    with article_vectors_progress() as progress:
        return await sync_vectors(conn, embedder, progress, articles)


def cmd_import(args: argparse.Namespace) -> int:
    async def load():
        async with database() as conn:
            report = await import_articles(conn, Path(args.path), strict=args.strict)
            return report, await store_vectors(conn)

    report, computed = run(load())
    for error in report.errors[:MAX_ERRORS_SHOWN]:
        err.print(f"[yellow]skipped[/] {escape(str(error))}")
    if len(report.errors) > MAX_ERRORS_SHOWN:
        err.print(f"… and {len(report.errors) - MAX_ERRORS_SHOWN} more invalid articles")
    out.print(f"stored {report.stored} articles from {args.path}"
              + (f"; {len(report.errors)} invalid skipped" if report.errors else "")
              + (f"; sentence vectors computed for {computed}" if computed else ""))
    return 0


def cmd_vectors(args: argparse.Namespace) -> int:
    async def load():
        async with database() as conn:
            return await store_vectors(conn)

    out.print(f"sentence vectors computed for {run(load())} articles (the others were current)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    async def load():
        async with database() as conn:
            return await read_all(conn)

    articles = run(load())
    if args.file:
        out.print(f"wrote {write_jsonl(articles, Path(args.file))} articles to {args.file}")
    else:
        for a in articles:
            sys.stdout.write(json.dumps(a.to_json(), ensure_ascii=False) + "\n")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    if not args.text.strip():
        raise ValueError('give the words heard, e.g. hotline kb search "公积金怎么提取"')
    result = knowledge_index(args.kb).search(args.text, args.k)
    if args.json:
        print(json.dumps({"confident": result.confident, "hits": [
            {"id": h.article.id, "title": h.article.title, "score": h.score,
             "confidence": h.confidence, "passage": h.highlighted} for h in result.hits]},
            ensure_ascii=False))
        return 0
    if not result.confident:
        out.print("没有可信的答案 (no confident answer)" + ("；最接近的：" if result.hits else ""))
    table = Table("#", "条目", "可读答案（匹配处【】）", "置信度")
    for i, h in enumerate(result.hits, 1):
        table.add_row(str(i), h.article.title, h.highlighted, f"{h.confidence:.2f}")
    if result.hits:
        out.print(table)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    questions = read_questions(Path(args.queries))
    started = time.perf_counter()
    index = knowledge_index(args.kb)
    build_s = time.perf_counter() - started
    freeze_startup_heap()  # as a console does after loading: no full collections mid-search
    result = evaluate(questions, index_predict(index))
    result["build_s"] = round(build_s, 2)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    kind = suggest_type(args.text)
    out.print(f"工单类型：{kind.value}（{kind.confidence:.2f}）")
    return 0


def read_messages(path: Path) -> tuple[list[str], list[str]]:
    with csv_rows(path, ("label_l1", "title")) as reader:
        rows = list(reader)
    return [r["title"] + "。" + (r.get("detail") or "") for r in rows], [r["label_l1"] for r in rows]


def cmd_classify_eval(args: argparse.Namespace) -> int:
    texts, labels = read_messages(Path(args.messages))
    print(json.dumps(cross_validate(texts, labels, folds=args.folds), ensure_ascii=False))
    return 0


def register(sub) -> None:
    kb = sub.add_parser("kb", help="knowledge base").add_subparsers(dest="kb", required=True)
    p = kb.add_parser("import", help="import a .jsonl file or a folder of Markdown articles")
    p.add_argument("path")
    p.add_argument("--strict", action="store_true", help="refuse everything on any invalid article")
    p.set_defaults(func=cmd_import)

    p = kb.add_parser("vectors", help="compute missing or stale sentence vectors of the imported KB")
    p.set_defaults(func=cmd_vectors)

    p = kb.add_parser("export", help="export the knowledge base as JSON Lines")
    p.add_argument("file", nargs="?", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_export)

    p = kb.add_parser("search", help="answers for what the caller said")
    p.add_argument("text")
    p.add_argument("-k", type=int, default=3)
    p.add_argument("--kb", help="a .jsonl file or Markdown folder instead of the imported KB")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = kb.add_parser("eval", help="evaluate on a TSV (question_id, text, gold_article_ids)")
    p.add_argument("--queries", required=True)
    p.add_argument("--kb", help="a .jsonl file or Markdown folder instead of the imported KB")
    p.set_defaults(func=cmd_eval)

    p = kb.add_parser("suggest", help="suggest the ticket type for what the caller said")
    p.add_argument("text")
    p.set_defaults(func=cmd_suggest)

    p = kb.add_parser("classify-eval", help="cross-validate the category classifier on a labelled CSV")
    p.add_argument("--messages", required=True, help="CSV with title, detail, label_l1")
    p.add_argument("--folds", type=int, default=5)
    p.set_defaults(func=cmd_classify_eval)
