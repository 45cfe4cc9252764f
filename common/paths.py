"""Where a machine keeps the hotline's local files (index caches, outboxes, recordings)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "hotline"


def data_dir() -> Path:
    """`HOTLINE_DATA_DIR`, else the user's data dir (e.g. ~/.local/share/hotline)."""
    override = os.environ.get("HOTLINE_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path
