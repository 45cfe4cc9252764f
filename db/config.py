"""Where the data lives and which database to talk to."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from .embedded import EmbeddedPostgres

APP_NAME = "hotline"


def data_dir() -> Path:
    """`HOTLINE_DATA_DIR`, else the user's data dir (e.g. ~/.local/share/hotline)."""
    override = os.environ.get("HOTLINE_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def external_dsn() -> str | None:
    return os.environ.get("HOTLINE_DSN") or None


def embedded_server() -> EmbeddedPostgres:
    return EmbeddedPostgres(data_dir())


def resolve_dsn() -> str:
    """`HOTLINE_DSN` when set, else the embedded server (started on demand)."""
    return external_dsn() or embedded_server().start()
