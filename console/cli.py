"""`hotline` command line."""

from __future__ import annotations

import argparse
import sys

from rich.markup import escape

from db.connect import DatabaseUnavailable
from db.embedded import EmbeddedServerError
from domain.lifecycle import LifecycleError
from domain.routing import UnitsConfigError
from domain.seats import SeatsConfigError, SeatStateError
from domain.settings import SettingsError
from domain.taxonomy import TaxonomyError
from domain.tickets import TicketValidationError
from geo.gazetteer import GazetteerError
from kb.articles import ArticleError
from quality.config import QaConfigError
from speech.audio import AudioError
from speech.model import ModelNotFound
from telephony.errors import TelephonyError

from .commands import (console_cmd, db, demo, geo, kb, lifecycle_cmd, pbx_cmd, qa_cmd, speech, telephony_cmd,
                       tickets_cmd, wallboard_cmd)
from .commands.common import err

USER_ERRORS = (SeatsConfigError, SeatStateError, SettingsError, UnitsConfigError, TaxonomyError,
               TicketValidationError, LifecycleError, GazetteerError, ArticleError, AudioError, ModelNotFound,
               QaConfigError, TelephonyError, LookupError,
               FileNotFoundError, ValueError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="12345 hotline console")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (db, geo, kb, speech, console_cmd, wallboard_cmd, qa_cmd, tickets_cmd, lifecycle_cmd, pbx_cmd,
                   telephony_cmd, demo):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DatabaseUnavailable, EmbeddedServerError) as exc:
        err.print(f"[red]database unavailable:[/] {escape(str(exc))}")
        return 3
    except USER_ERRORS as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
