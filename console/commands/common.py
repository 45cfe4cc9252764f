"""Shared pieces of the command line: output consoles, paths, connections, progress."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeRemainingColumn)

from db import config, migrate
from db.connect import connect
from db.roles import ensure_owner, ensure_roles

out = Console()
err = Console(stderr=True, soft_wrap=True)
REPO_ROOT = Path(__file__).resolve().parents[2]


def default_seats_file() -> Path:
    env = os.environ.get("HOTLINE_SEATS")
    if env:
        return Path(env)
    here = Path.cwd() / "seats.toml"
    return here if here.exists() else REPO_ROOT / "seats.toml"


@asynccontextmanager
async def database(on_migrated=None):
    """The schema owner's connection to the hotline database (started, migrated and its roles
    made when needed)."""
    passwords = config.role_passwords()
    admin = await connect(config.resolve_dsn())
    try:
        if passwords:  # the embedded server: its roles are ours to keep; the owner migrates
            await ensure_owner(admin, passwords["owner"])
            conn = await connect(config.resolve_dsn("owner"))
        else:  # an external server: HOTLINE_DSN is its schema owner
            conn = admin
        try:
            applied = await migrate.migrate(conn)
            if on_migrated:
                on_migrated(applied)
            if passwords:
                await ensure_roles(admin, passwords)
            yield conn
        finally:
            if conn is not admin:
                await conn.close()
    finally:
        await admin.close()


async def ready() -> None:
    """The database started, migrated and its roles current, before an app connects as a role."""
    async with database():
        pass


def run(coro):
    return asyncio.run(coro)


def file_progress(description: str, transient: bool = False) -> Progress:
    """A progress bar over bytes of a file (imports, downloads)."""
    return Progress(TextColumn(f"[bold]{description}"), BarColumn(), DownloadColumn(),
                    TimeRemainingColumn(), console=err, transient=transient)


def count_progress(description: str) -> Progress:
    """A progress bar over a count of items (index builds); gone when done (the command
    reports the count)."""
    return Progress(TextColumn(f"[bold]{description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=err, transient=True)


@contextmanager
def article_vectors_progress():
    """A callback(done, total) drawing 'sentence vectors' progress on stderr."""
    with count_progress("sentence vectors") as progress:
        task = progress.add_task("vectors", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def parse_day(value: str, name: str) -> dt.date:
    """A day given on the command line (`name` is its option), or a clear error."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must look like 2026-12-01, got {value!r}") from None
