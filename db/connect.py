"""Connections with a clear error when the database cannot be reached."""

from __future__ import annotations

import asyncio

import asyncpg

# Errors that mean "the server is not there right now" rather than "the request is wrong".
UNAVAILABLE = (
    OSError,
    ConnectionError,
    asyncio.TimeoutError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)


class DatabaseUnavailable(RuntimeError):
    """PostgreSQL could not be reached."""


# Server-side error classes that mean "try again later": connection exceptions (08),
# insufficient resources (53), operator intervention (57: shutdown, crash, cannot connect now).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")
COMMAND_TIMEOUT = 10  # seconds: a server that hangs counts as away, the seat does not wait


def is_unavailable(exc: BaseException) -> bool:
    """Does this error mean the database is not there right now (so the work should wait
    and be retried), rather than that the request is wrong?"""
    if isinstance(exc, (DatabaseUnavailable, *UNAVAILABLE, asyncpg.InternalClientError)):
        return True
    state = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, asyncpg.PostgresError) and state[:2] in _UNAVAILABLE_SQLSTATE_CLASSES


def describe(dsn: str) -> str:
    """The DSN without a password, for messages."""
    if "@" in dsn and ":" in dsn.split("@", 1)[0].split("//", 1)[-1]:
        scheme, rest = dsn.split("//", 1)
        user = rest.split(":", 1)[0]
        return f"{scheme}//{user}:***@{rest.split('@', 1)[1]}"
    return dsn


async def connect(dsn: str, timeout: float = 10) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(dsn, timeout=timeout, command_timeout=COMMAND_TIMEOUT)
    except UNAVAILABLE as exc:
        raise DatabaseUnavailable(f"cannot reach PostgreSQL at {describe(dsn)}: {exc}") from exc


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    try:
        return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, timeout=10,
                                         command_timeout=COMMAND_TIMEOUT)
    except UNAVAILABLE as exc:
        raise DatabaseUnavailable(f"cannot reach PostgreSQL at {describe(dsn)}: {exc}") from exc


def connection(db: asyncpg.Pool | asyncpg.Connection):
    """`async with connection(db) as conn`: a connection from a pool, or the one given —
    for stores that run a transaction on whichever they were handed."""
    return db.acquire() if isinstance(db, asyncpg.Pool) else _Given(db)


class _Given:
    def __init__(self, conn: asyncpg.Connection):
        self.conn = conn

    async def __aenter__(self) -> asyncpg.Connection:
        return self.conn

    async def __aexit__(self, *exc) -> bool:
        return False
