"""Which database to talk to: `HOTLINE_DSN`, else the embedded server in the data dir."""

from __future__ import annotations

import os

from common.paths import data_dir

from .embedded import EmbeddedPostgres


def external_dsn() -> str | None:
    return os.environ.get("HOTLINE_DSN") or None


def embedded_server() -> EmbeddedPostgres:
    return EmbeddedPostgres(data_dir())


def resolve_dsn() -> str:
    """`HOTLINE_DSN` when set, else the embedded server (started on demand)."""
    return external_dsn() or embedded_server().start()
