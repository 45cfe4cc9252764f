"""Reading the CSV/TSV files users hand us: UTF-8 with or without BOM, required header checked,
every way the file can be wrong raised as the caller's error with file and line."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .userfile import read_text

MAX_FIELD = 100_000  # characters: a field larger than this is a damaged file, not data


@contextmanager
def csv_rows(path: Path, required: Iterable[str], delimiter: str = ",",
             error: type[Exception] = ValueError) -> Iterator[Iterator[dict]]:
    """The file's rows as dicts, after refusing it with `error` when the header lacks a
    required column (the message names the file and the columns). A row with more fields
    than the header, a huge field or a broken quote is `error` with its line."""
    text = read_text(path, error)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise error(f"{path}:1: not a readable header ({exc})") from None
    missing = [c for c in required if c not in fieldnames]
    if missing:
        raise error(f"{path}: missing column(s) {', '.join(missing)}")

    def rows() -> Iterator[dict]:
        try:
            for row in reader:
                if None in row:
                    raise error(f"{path}:{reader.line_num}: more fields than the header has")
                if any(v is not None and len(v) > MAX_FIELD for v in row.values()):
                    raise error(f"{path}:{reader.line_num}: a field of more than {MAX_FIELD:,} characters")
                yield row
        except csv.Error as exc:
            raise error(f"{path}:{reader.line_num}: {exc}") from None

    yield rows()
