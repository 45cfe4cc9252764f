"""Reading the CSV/TSV files users hand us: UTF-8 with or without BOM, required header checked."""

from __future__ import annotations

import csv
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator


@contextmanager
def csv_rows(path: Path, required: Iterable[str], delimiter: str = ",",
             error: type[Exception] = ValueError) -> Iterator[csv.DictReader]:
    """The file's rows as dicts, after refusing it with `error` when the header lacks a
    required column (the message names the file and the columns)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise error(f"{path}: missing column(s) {', '.join(missing)}")
        yield reader
