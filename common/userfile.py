"""Reading the files users hand us: one place that turns every way a file can be wrong (not
there, a directory, not readable, not UTF-8, NUL bytes) into the caller's own error class,
naming the file and, where there is one, the line."""

from __future__ import annotations

from pathlib import Path


def read_text(path: Path, error: type[Exception]) -> str:
    """The file's text (UTF-8, with or without BOM), or `error` naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise error(f"{path}: permission denied") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
    return decode(data, path, error)


def decode(data: bytes, path: Path | str, error: type[Exception], first_line: int = 1) -> str:
    """UTF-8 text of `data` from `path`, or `error` with the line of the first bad byte."""
    try:
        text = data.decode("utf-8-sig" if first_line == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data[:exc.start].count(b"\n")
        raise error(f"{path}:{line}: not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); "
                    "save the file as UTF-8") from None
    if "\x00" in text:
        line = first_line + text[:text.index("\x00")].count("\n")
        raise error(f"{path}:{line}: contains a NUL byte (a damaged or binary file)")
    return text
