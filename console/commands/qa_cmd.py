"""hotline qa sample | report | (the inspector's screen)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from rich.table import Table

from db import config
from domain.workdays import SHANGHAI

from .common import REPO_ROOT, database, out, parse_day, ready, run


def default_qa_file() -> Path:
    here = Path.cwd() / "qa.toml"
    return here if here.exists() else REPO_ROOT / "qa.toml"


def _day(value: str | None) -> dt.date:
    if not value:  # the inspection is of yesterday's calls
        return dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=1)
    return parse_day(value, "--date")


def cmd_qa(args: argparse.Namespace) -> int:
    from quality.config import load_qa

    sampling, rubric = load_qa(Path(args.config or default_qa_file()))
    day = _day(args.date)
    if args.action == "sample":
        from quality.sampling import draw_sample

        async def go():
            async with database() as conn:
                return await draw_sample(conn, day, sampling)

        sample = run(go())
        table = Table(f"{day} 抽检", "原因")
        for call_id, reasons in sample:
            table.add_row(f"通话 #{call_id}", "、".join(reasons))
        out.print(table)
        out.print(f"{len(sample)} calls sampled for {day}")
        return 0
    if args.action == "report":
        from quality.scores import write_report

        path = Path(args.out or f"qa-report-{day}.csv")

        async def go():
            async with database() as conn:
                return await write_report(conn, day, path)

        out.print(f"wrote {run(go())} agents to {path}")
        return 0
    from ..qa.app import QaApp

    run(ready())
    QaApp(config.resolve_dsn("inspector"), day, args.inspector, rubric, args.device).run()
    return 0


def register(sub) -> None:
    p = sub.add_parser("qa", help="quality inspection: sample | report | screen")
    p.add_argument("action", nargs="?", choices=["sample", "report", "screen"], default="screen")
    p.add_argument("--date", help="day of the calls (default: yesterday, Asia/Shanghai)")
    p.add_argument("--inspector", default="inspector", help="inspector id for scores")
    p.add_argument("--config", help="qa.toml (sampling rules and rubric)")
    p.add_argument("--out", help="CSV file for the report")
    p.add_argument("--device", help="playback device (name or index)")
    p.set_defaults(func=cmd_qa)
