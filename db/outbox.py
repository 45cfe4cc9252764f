"""No ticket is ever lost: a durable local outbox for when PostgreSQL is unreachable.

Every ticket the database cannot take is appended to a JSON-lines file and fsync'd before
the agent is told "queued".  A replayer stores queued tickets when the database is back;
the idempotency key makes a replay of an already-stored ticket harmless.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import fcntl
import json
import logging
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from .connect import UNAVAILABLE, DatabaseUnavailable, create_pool
from domain.tickets import TicketDraft, TicketRules, validate
from .tickets import StoredTicket, TicketStore

log = logging.getLogger(__name__)


def draft_to_json(draft: TicketDraft) -> dict:
    data = dataclasses.asdict(draft)
    data["accepted_at"] = draft.accepted_at.isoformat()
    data["idempotency_key"] = str(draft.idempotency_key)
    return data


def draft_from_json(data: dict) -> TicketDraft:
    data = dict(data)
    data["accepted_at"] = dt.datetime.fromisoformat(data["accepted_at"])
    data["idempotency_key"] = uuid.UUID(data["idempotency_key"])
    return TicketDraft(**data)


class Outbox:
    """Append-only file of queued tickets and of "done" marks; safe across threads and processes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.rejected_path = self.path.with_suffix(".rejected.jsonl")
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _append(self, path: Path, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            new = not path.exists()
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            if new:  # make the new directory entry durable too
                dir_fd = os.open(path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    def put(self, draft: TicketDraft) -> None:
        self._append(self.path, {"ticket": draft_to_json(draft)})

    def mark_done(self, key: uuid.UUID, ticket_no: str) -> None:
        self._append(self.path, {"done": str(key), "ticket_no": ticket_no})

    def reject(self, draft: TicketDraft, error: str) -> None:
        """Park a ticket the database refuses for good, with the reason; then mark it done."""
        self._append(self.rejected_path, {"ticket": draft_to_json(draft), "error": error})
        self._append(self.path, {"done": str(draft.idempotency_key), "rejected": True})

    def _read_queued(self, fh) -> dict[str, dict]:
        """Queued tickets (as JSON) not yet marked done, from an open, locked file."""
        queued: dict[str, dict] = {}
        fh.seek(0)
        for number, line in enumerate(fh, 1):
            if not line.endswith("\n"):
                log.warning("outbox %s: ignoring torn last line %d", self.path, number)
                continue
            record = json.loads(line)
            if "ticket" in record:
                queued[record["ticket"]["idempotency_key"]] = record["ticket"]
            elif "done" in record:
                queued.pop(record["done"], None)
        return queued

    def pending(self) -> list[TicketDraft]:
        if not self.path.exists():
            return []
        with self._lock, open(self.path, encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH)
            return [draft_from_json(t) for t in self._read_queued(fh).values()]

    def compact(self) -> None:
        """Empty the file once nothing is pending (truncated under an exclusive lock,
        so a writer in another process appends safely after it)."""
        if not self.path.exists():
            return
        with self._lock, open(self.path, "r+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            if not self._read_queued(fh):
                fh.truncate(0)
                os.fsync(fh.fileno())


@dataclass(frozen=True)
class Submission:
    """`stored` holds the ticket when PostgreSQL took it; otherwise it is queued locally."""

    draft: TicketDraft
    stored: StoredTicket | None

    @property
    def queued(self) -> bool:
        return self.stored is None


class TicketWriter:
    """Submit tickets to PostgreSQL, falling back to the outbox; replay when it returns."""

    def __init__(self, dsn: str, outbox: Outbox, rules: TicketRules, pool_size: int = 4,
                 min_pool_size: int = 1):
        self.dsn = dsn
        self.outbox = outbox
        self.rules = rules
        self.pool_size = pool_size
        self.min_pool_size = min_pool_size
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._replay_lock = asyncio.Lock()

    async def _store(self) -> TicketStore:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await create_pool(self.dsn, min_size=self.min_pool_size,
                                               max_size=self.pool_size)
        return TicketStore(self._pool, self.rules)

    async def submit(self, draft: TicketDraft) -> Submission:
        """Validation errors are raised; an unreachable database queues the ticket."""
        ticket = validate(draft)
        try:
            store = await self._store()
            return Submission(ticket, await store.submit(ticket, validated=True))
        except (DatabaseUnavailable, *UNAVAILABLE) as exc:
            log.warning("database unavailable, ticket %s queued: %s", ticket.idempotency_key, exc)
            self.outbox.put(ticket)
            return Submission(ticket, None)

    async def replay(self) -> int:
        """Store what the outbox holds; return how many were stored now."""
        async with self._replay_lock:
            stored = 0
            for draft in self.outbox.pending():
                try:
                    store = await self._store()
                    result = await store.submit(draft)
                except (DatabaseUnavailable, *UNAVAILABLE):
                    break
                except asyncpg.PostgresError as exc:
                    log.error("ticket %s refused by the database: %s", draft.idempotency_key, exc)
                    self.outbox.reject(draft, str(exc))
                    continue
                self.outbox.mark_done(draft.idempotency_key, result.ticket_no)
                stored += 1
            else:
                self.outbox.compact()
            return stored

    async def run_replayer(self, interval: float = 2.0) -> None:
        """Retry the outbox forever (cancel the task to stop)."""
        while True:
            if self.outbox.pending():
                await self.replay()
            await asyncio.sleep(interval)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
