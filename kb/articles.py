"""Knowledge-base articles: the JSON Lines import format and Markdown files with front matter."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from common.userfile import read_text

LIMITS = {"id": 64, "title": 200, "answer": 5000, "department": 100, "basis": 2000, "category": 50}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


class ArticleError(ValueError):
    """An article is invalid; the message names the file and line (or file)."""


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    answer: str  # what the agent reads out
    questions: tuple[str, ...] = ()
    department: str = ""
    basis: str = ""  # policy basis
    category: str = ""
    tags: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    updated_at: dt.datetime | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data["questions"], data["tags"] = list(self.questions), list(self.tags)
        for key in ("valid_from", "valid_to", "updated_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and \
               (self.valid_to is None or day <= self.valid_to)


def _date(value, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ArticleError(f"'{name}' must be a date like 2026-01-31, got {value!r}") from None


def _datetime(value) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ArticleError(f"'updated_at' must be an ISO date-time, got {value!r}") from None


def _text_problem(value: str) -> str | None:
    """Why text cannot be stored (PostgreSQL refuses NUL and lone surrogates)."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an invalid character (a lone surrogate)"
    return None


def article_from(data: dict) -> Article:
    """Validate one article given as a mapping (extra keys are ignored)."""
    if not isinstance(data, dict):
        raise ArticleError("an article must be a JSON object")
    values = {}
    for name in ("id", "title", "answer", "department", "basis", "category"):
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ArticleError(f"'{name}' must be text")
        if (problem := _text_problem(value)):
            raise ArticleError(f"'{name}' {problem}")
        value = value.strip()
        if len(value) > LIMITS[name]:
            raise ArticleError(f"'{name}' is too long ({len(value)} characters, limit {LIMITS[name]})")
        values[name] = value
    for name in ("id", "title", "answer"):
        if not values[name]:
            raise ArticleError(f"'{name}' is empty")
    if not _ID.match(values["id"]):
        raise ArticleError(f"'id' may hold letters, digits and _.:- only, got {values['id']!r}")
    lists = {}
    for name in ("questions", "tags"):
        value = data.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and not _text_problem(v) for v in value):
            raise ArticleError(f"'{name}' must be a list of text")
        lists[name] = tuple(v.strip() for v in value if v.strip())
    valid_from, valid_to = _date(data.get("valid_from"), "valid_from"), _date(data.get("valid_to"), "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise ArticleError("'valid_to' is before 'valid_from'")
    return Article(values["id"], values["title"], values["answer"], lists["questions"],
                   values["department"], values["basis"], values["category"], lists["tags"],
                   valid_from, valid_to, _datetime(data.get("updated_at")))


def read_jsonl(path: Path, on_error: Callable[[ArticleError], None] | None = None) -> Iterator[Article]:
    seen: set[str] = set()
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError:
                line = None
            if line is not None and not line.strip():
                continue
            try:
                if line is None:
                    raise ArticleError("not UTF-8 text; save the file as UTF-8")
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ArticleError(f"not valid JSON ({exc.msg})") from None
                except RecursionError:
                    raise ArticleError("JSON nested too deeply") from None
                article = article_from(data)
                if article.id in seen:
                    raise ArticleError(f"duplicate id {article.id}")
                seen.add(article.id)
            except ArticleError as exc:
                error = ArticleError(f"{path}:{line_no}: {exc}")
                if on_error is None:
                    raise error from None
                on_error(error)
                continue
            yield article


def parse_markdown(text: str, source: str) -> Article:
    """A Markdown file: TOML front matter between +++ lines, then the answer.

    A "## 常见问法" section, if present, lists question variants as "- …" lines.
    """
    match = re.match(r"^\+\+\+\s*\n(.*?)\n\+\+\+\s*\n(.*)$", text, re.S)
    if not match:
        raise ArticleError(f"{source}: front matter missing (start the file with +++ … +++)")
    try:
        meta = tomllib.loads(match[1])
    except tomllib.TOMLDecodeError as exc:
        raise ArticleError(f"{source}: front matter is not valid TOML: {exc}") from None
    body = match[2]
    questions = meta.get("questions", [])
    if not isinstance(questions, list):
        raise ArticleError(f"{source}: 'questions' must be a list, e.g. questions = [\"怎么办理\"]")
    questions = list(questions)
    section = re.search(r"^##\s*常见问法\s*\n(.*?)(?=^##\s|\Z)", body, re.S | re.M)
    if section:
        questions += [q.strip()[1:].strip() for q in section[1].splitlines() if q.strip().startswith("-")]
        body = body[:section.start()] + body[section.end():]
    meta.setdefault("answer", body.strip())
    meta["questions"] = questions
    meta.setdefault("id", Path(source).stem)
    try:
        return article_from(meta)
    except ArticleError as exc:
        raise ArticleError(f"{source}: {exc}") from None


def read_markdown_dir(folder: Path, on_error: Callable[[ArticleError], None] | None = None) -> Iterator[Article]:
    paths = sorted(Path(folder).rglob("*.md"))
    if not paths:
        raise ArticleError(f"{folder}: is a directory with no .md articles (give a .jsonl file or a folder of .md)")
    for path in paths:
        try:
            yield parse_markdown(read_text(path, ArticleError), str(path))
        except ArticleError as error:
            if on_error is None:
                raise
            on_error(error)


def read_articles(path: Path, on_error: Callable[[ArticleError], None] | None = None) -> Iterator[Article]:
    """A .jsonl file or a folder of .md files."""
    path = Path(path)
    if path.is_dir():
        return read_markdown_dir(path, on_error)
    if not path.exists():
        raise ArticleError(f"{path}: file not found")
    return read_jsonl(path, on_error)


def write_jsonl(articles: Iterable[Article], path: Path) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for article in articles:
            fh.write(json.dumps(article.to_json(), ensure_ascii=False) + "\n")
            n += 1
    return n
