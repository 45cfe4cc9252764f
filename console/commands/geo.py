"""hotline gazetteer import | geo match | geo eval | geo index: the address gazetteer."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from common.paths import data_dir
from common.heap import freeze_startup_heap
from common.metrics import peak_rss_mb
from geo.evaluate import evaluate, matcher_predict, read_queries
from geo.hardset import SPLITS, HardSetMaker, write_tsv
from geo.matcher import AddressMatcher
from geo.index import AddressIndex
from geo.service import load_index
from geo.service import import_csv

from .common import database, err, file_progress, out, run

MAX_ERRORS_SHOWN = 20
LEVEL_NAMES = {"community": "社区/村", "village_house": "村户", "compound": "小区", "building": "楼栋",
               "door": "门牌", "room": "房屋"}


def index_cache() -> Path:
    return data_dir() / "geo-index.pkl"


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    size = path.stat().st_size

    async def load():
        with file_progress(f"importing {path.name}") as progress:
            task = progress.add_task("import", total=size)
            async with database() as conn:
                return await import_csv(conn, path, strict=args.strict,
                                        on_progress=lambda done: progress.update(task, completed=done))

    report = run(load())
    for error in report.errors[:MAX_ERRORS_SHOWN]:
        err.print(f"[yellow]skipped[/] {escape(str(path))}:{escape(str(error))}")
    if len(report.errors) > MAX_ERRORS_SHOWN:
        err.print(f"… and {len(report.errors) - MAX_ERRORS_SHOWN} more invalid rows")
    out.print(f"stored {report.rows_stored} of {report.rows_read} rows from {path}"
              + (f"; {len(report.errors)} invalid rows skipped (--strict refuses them)" if report.errors else ""))
    return 0


def _index(args: argparse.Namespace):
    """The index of --gazetteer FILE, else of the imported gazetteer (cached)."""
    if getattr(args, "gazetteer", None):
        return AddressIndex.from_csv(Path(args.gazetteer))

    async def load():
        async with database() as conn:
            return await load_index(conn, index_cache())

    return run(load())


def cmd_match(args: argparse.Namespace) -> int:
    if not args.text.strip():
        raise ValueError("give the words heard, e.g. hotline geo match \"松龄花园三号楼\"")
    matcher = AddressMatcher(_index(args))
    result = matcher.match_uncached(args.text, args.k)
    if args.json:
        print(json.dumps({
            "normalized": result.normalized, "confident": result.confident, "doubt": result.doubt or None,
            "matches": [{"address_code": m.address.address_code, "level": m.level,
                         "full_address": m.address.full_address, "town": m.address.town,
                         "community": m.address.community, "grid": m.address.grid,
                         "score": m.score, "confidence": m.confidence, "evidence": m.evidence}
                        for m in result.matches],
            "intersection": None if result.intersection is None else {
                "roads": result.intersection.road, "full_address": result.intersection.full_address,
                "district": result.intersection.district, "town": result.intersection.town,
                "community": result.intersection.community or None,
                "address_code": result.intersection.address_code}}, ensure_ascii=False))
        return 0
    if not result.confident:
        out.print(f"没有可信的匹配 (no confident match: {result.doubt})" +
                  ("；最接近的：" if result.matches else ""))
    table = Table("#", "标准地址", "级别", "网格", "置信度")
    for i, m in enumerate(result.matches, 1):
        a = m.address
        table.add_row(str(i), a.full_address, LEVEL_NAMES.get(m.level, m.level), a.grid or "-",
                      f"{m.confidence:.2f}")
    if result.matches:
        out.print(table)
    if result.intersection:
        out.print(f"路口：{result.intersection.full_address}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    queries = read_queries(Path(args.queries), with_district=args.with_district)
    started = time.perf_counter()
    index = _index(args)
    build_s = time.perf_counter() - started
    matcher = AddressMatcher(index)
    freeze_startup_heap()  # as a console does after loading: no full collections mid-search
    result = evaluate(queries, matcher_predict(matcher))
    result.update(build_s=round(build_s, 2), rss_mb=peak_rss_mb())
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_hardset(args: argparse.Namespace) -> int:
    index = _index(args)
    queries = HardSetMaker(index.rows, args.seed).make(args.n, args.split)
    write_tsv(queries, Path(args.out))
    out.print(f"{len(queries)} queries ({args.split}) → {args.out}")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    cache = index_cache()
    cache.unlink(missing_ok=True)
    started = time.perf_counter()
    index = _index(argparse.Namespace(gazetteer=None))
    out.print(f"indexed {len(index.rows)} addresses, {len(index.names)} names in "
              f"{time.perf_counter() - started:.1f}s → {cache} ({peak_rss_mb()} MB RSS)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("gazetteer", help="import a 一标三实 standard-address CSV")
    p.add_argument("action", choices=["import"])
    p.add_argument("file")
    p.add_argument("--strict", action="store_true", help="refuse the whole file on any invalid row")
    p.set_defaults(func=cmd_import)

    geo = sub.add_parser("geo", help="spoken-address matching").add_subparsers(dest="geo", required=True)
    p = geo.add_parser("match", help="match the words heard to standard addresses")
    p.add_argument("text")
    p.add_argument("-k", type=int, default=3)
    p.add_argument("--gazetteer", help="a standard-address CSV instead of the imported one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_match)

    p = geo.add_parser("eval", help="evaluate on a query TSV (query_id, text, gold_address_code)")
    p.add_argument("--queries", required=True)
    p.add_argument("--gazetteer", help="a standard-address CSV instead of the imported one")
    p.add_argument("--with-district", action="store_true",
                   help="say the TSV's district column before each text (real_listing_dev.tsv)")
    p.set_defaults(func=cmd_eval)

    p = geo.add_parser("hardset", help="write a hard noisy evaluation set made from the gazetteer")
    p.add_argument("--split", choices=SPLITS, default="build",
                   help="addresses to draw from: build (for developing) or heldout (for judging)")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=101)
    p.add_argument("--out", required=True)
    p.add_argument("--gazetteer", help="a standard-address CSV instead of the imported one")
    p.set_defaults(func=cmd_hardset)

    p = geo.add_parser("index", help="rebuild the cached address index")
    p.set_defaults(func=cmd_index)
