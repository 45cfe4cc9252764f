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
import hashlib
import json
import logging
import os
import threading
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from domain.tickets import TicketDraft, TicketRules, TicketValidationError, validate

from .connect import UNAVAILABLE, create_pool, is_unavailable
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


class OutboxError(OSError):
    """The outbox could not take the ticket (disk full, read-only, I/O error): nothing was
    acknowledged, and what the file held before is intact."""


def encode_record(record: dict) -> bytes:
    """One line: the CRC-32 of the JSON (8 hex digits), a space, the JSON, a newline."""
    body = json.dumps(record, ensure_ascii=False).encode("utf-8")
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def _checked_json(line: bytes):
    """The JSON of one line after its checksum is verified (lines written before checksums
    existed start with '{' and are read as they are)."""
    line = line.rstrip(b"\n")
    if line.startswith(b"{"):
        return json.loads(line)
    crc, _, body = line.partition(b" ")
    if len(crc) != 8 or int(crc, 16) != zlib.crc32(body):
        raise ValueError("checksum does not match")
    return json.loads(body)


def decode_record(line: bytes) -> dict:
    """The record of one whole line; ValueError when it is not one (torn, garbage, altered)."""
    record = _checked_json(line)
    if not isinstance(record, dict) or not ({"ticket", "done"} & set(record)):
        raise ValueError("not an outbox record")
    if "ticket" in record:
        draft_from_json(record["ticket"])  # a record that cannot become a ticket is bad too
    return record


class Outbox:
    """Append-only file of queued tickets and of "done" marks; safe across threads and processes.

    Every line carries its checksum, so one torn or damaged line is moved aside (to
    `*.corrupt.jsonl`, with its line number and bytes) and everything after it still replays.
    A write either lands whole and fsync'd or is rolled back and raised as OutboxError.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.rejected_path = self.path.with_suffix(".rejected.jsonl")
        self.corrupt_path = self.path.with_suffix(".corrupt.jsonl")
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _append(self, path: Path, record: dict) -> None:
        line = encode_record(record)
        with self._lock:
            new = not path.exists()
            try:
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError as exc:
                raise OutboxError(exc.errno, f"outbox {path}: {exc.strerror}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # end a torn last line first, so this record stays whole
                try:
                    written = 0
                    while written < len(line):
                        written += os.write(fd, line[written:])
                    os.fsync(fd)
                except OSError as exc:
                    os.ftruncate(fd, size)  # nothing half-written stays behind
                    raise OutboxError(exc.errno, f"outbox {path}: {exc.strerror}") from exc
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

    def _read_queued(self, fh) -> tuple[dict[str, dict], list[tuple[int, int, bytes]]]:
        """Queued tickets (as JSON) not yet marked done, and the bad lines (number, offset,
        bytes), from an open, locked file."""
        queued: dict[str, dict] = {}
        bad: list[tuple[int, int, bytes]] = []
        fh.seek(0)
        offset = 0
        for number, line in enumerate(fh, 1):
            start, offset = offset, offset + len(line)
            if not line.endswith(b"\n"):
                log.warning("outbox %s: ignoring torn last line %d", self.path, number)
                continue
            try:
                record = decode_record(line)
            except (ValueError, TypeError, KeyError) as exc:
                log.error("outbox %s: line %d is damaged (%s): moved aside", self.path, number, exc)
                bad.append((number, start, line))
                continue
            if "ticket" in record:
                queued[record["ticket"]["idempotency_key"]] = record["ticket"]
            else:
                queued.pop(record["done"], None)
        return queued, bad

    def _set_aside(self, bad: list[tuple[int, int, bytes]]) -> None:
        """Copy damaged lines to the corrupt file once each (by offset and content)."""
        seen = set()
        if self.corrupt_path.exists():
            with open(self.corrupt_path, "rb") as fh:
                for line in fh:
                    try:
                        r = _checked_json(line)
                        seen.add((r["offset"], r["sha1"]))
                    except (ValueError, KeyError, TypeError):
                        continue
        for number, offset, raw in bad:
            digest = hashlib.sha1(raw).hexdigest()
            if (offset, digest) not in seen:
                self._append(self.corrupt_path, {"line": number, "offset": offset,
                                                 "sha1": digest, "bytes": raw.decode("utf-8", "replace")})

    def pending(self) -> list[TicketDraft]:
        if not self.path.exists():
            return []
        with self._lock, open(self.path, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH)
            queued, bad = self._read_queued(fh)
        if bad:
            self._set_aside(bad)
        return [draft_from_json(t) for t in queued.values()]

    def compact(self) -> None:
        """Empty the file once nothing is pending (truncated under an exclusive lock,
        so a writer in another process appends safely after it)."""
        if not self.path.exists():
            return
        with self._lock, open(self.path, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH)
            queued, bad = self._read_queued(fh)
        if queued:
            return
        self._set_aside(bad)  # damaged lines are kept before the file is emptied
        with self._lock, open(self.path, "r+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            queued, bad_now = self._read_queued(fh)
            if not queued and {(o, r) for _, o, r in bad_now} <= {(o, r) for _, o, r in bad}:
                fh.truncate(0)
                os.fsync(fh.fileno())


# Which field a database refusal is about, by constraint name.
_CONSTRAINT_FIELDS = {"tickets_category_code_fkey": ("category_code", "未知分类"),
                      "tickets_unit_code_fkey": ("unit_code", "未知承办单位"),
                      "tickets_call_id_fkey": ("call_id", "未知通话")}


def refusal(exc: asyncpg.PostgresError) -> TicketValidationError:
    """A permanent refusal by the database, as the ticket API's one error."""
    name = getattr(exc, "constraint_name", None)
    field_name, message = _CONSTRAINT_FIELDS.get(name, ("ticket", f"数据库拒绝：{exc}"))
    return TicketValidationError({field_name: message})


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
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as exc:
            raise refusal(exc) from None
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # also when the commit may have happened before the connection broke: the
            # idempotency key makes the replay return the stored ticket instead of a second
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
                except Exception as exc:
                    if is_unavailable(exc):
                        break
                    if not isinstance(exc, (asyncpg.PostgresError, TicketValidationError)):
                        raise
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
            try:
                if self.outbox.pending():
                    await self.replay()
            except Exception:  # keep retrying: a replayer that dies would strand the queue
                log.exception("outbox replay failed; retrying in %.0f s", interval)
            await asyncio.sleep(interval)

    async def close(self) -> None:
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), 2)
            except (asyncio.TimeoutError, *UNAVAILABLE):  # a server that went away
                self._pool.terminate()
            self._pool = None
