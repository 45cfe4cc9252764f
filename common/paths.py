"""Where a machine keeps the hotline's local files (index caches, outboxes, recordings)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "hotline"


def data_dir() -> Path:
    """`HOTLINE_DATA_DIR`, else the user's data dir (e.g. ~/.local/share/hotline).

    It holds personal data (recordings, outboxes): its owner alone may read it (0700; 0711
    for root, whose embedded server runs as another user that must pass through)."""
    override = os.environ.get("HOTLINE_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    wanted = 0o711 if os.geteuid() == 0 else 0o700
    if path.stat().st_mode & 0o777 != wanted and path.stat().st_uid == os.geteuid():
        path.chmod(wanted)
    return path


def private_dirs(path: Path) -> Path:
    """Make `path` and any missing parents with mode 0700 (existing ones are left alone)."""
    path = Path(path)
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    return missing[0] if missing else path
