"""A floor of simulated seats that sign in, take calls, wrap up, take breaks and file
tickets through the same code as the real console (seat states, calls, ticket writer)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
from pathlib import Path

import asyncpg

from common.metrics import percentile
from db.calls import CallStore
from db.outbox import Outbox, TicketWriter
from db.seats import SeatStore
from db.tickets import TicketStore
from domain.seats import Seat
from domain.tickets import TicketDraft, TicketRules
from domain.vocabulary import BreakReason, HandlingMode, SeatState, TicketType
from domain.workdays import SHANGHAI

COMPLAINTS = [("投诉", "010201", "小区路灯坏了好几天了"), ("求助", "010301", "家里停水了"),
              ("投诉", "030101", "楼上装修噪音扰民"), ("举报", "020102", "路边有人占道经营"),
              ("建议", "040101", "建议增加公交线路"), ("投诉", "010302", "暖气一直不热")]
DIRECT = [("zb-gjj-tiqu", "租房怎么提取公积金"), ("zb-juzhuzheng", "外地人怎么办居住证"),
          ("zb-dibao", "低保怎么申请"), ("zb-jiehun-dengji", "结婚登记要带什么")]
DIRECT_SHARE = 0.61  # answered on the spot
ADDRESSES = ["370303009001200103", "370303009002200101", "370303001001200101", "370302001001200101"]


class FloorSimulation:
    def __init__(self, dsn: str, seats: list[Seat], seconds: float, speed: float, workdir: Path,
                 seed: int = 12345):
        self.dsn, self.seats, self.seconds, self.speed = dsn, seats, seconds, speed
        self.workdir = Path(workdir)
        self.random = random.Random(seed)
        self.rules = TicketRules.default()
        self.calls = 0
        self.submitted: list = []
        self.seat_events = 0
        self.notify_lags_ms: list[float] = []
        self.notified = 0

    async def _sleep(self, simulated_seconds: float, end: float) -> bool:
        """Sleep (compressed by `speed`); False once the simulation is over."""
        await asyncio.sleep(max(0.0, min(simulated_seconds / self.speed, end - time.monotonic())))
        return time.monotonic() < end

    async def _state(self, seats: SeatStore, seat: Seat, agent: str, state: SeatState,
                     reason: str | None = None) -> None:
        await seats.record_state(seat.id, agent, state, reason)
        self.seat_events += 1

    async def seat(self, seat: Seat, end: float) -> None:
        rnd = random.Random(self.random.random())
        agent = f"S{seat.id:03d}"
        conn = await asyncpg.connect(self.dsn)
        writer = TicketWriter(self.dsn, Outbox(self.workdir / f"outbox-{seat.id:03d}.jsonl"), self.rules,
                              pool_size=1)
        calls, seats = CallStore(conn), SeatStore(conn)
        try:
            await seats.ensure_agent(seat.id, agent)
            await self._state(seats, seat, agent, SeatState.READY)
            while await self._sleep(rnd.uniform(5, 60), end):
                if rnd.random() < 0.08:
                    await self._state(seats, seat, agent, SeatState.BREAK, rnd.choice(list(BreakReason)))
                    await self._sleep(rnd.uniform(120, 600), end)
                    await self._state(seats, seat, agent, SeatState.READY)
                    continue
                now = dt.datetime.now(SHANGHAI)
                call_id = await calls.ring(seat.id, f"138{rnd.randrange(10**8):08d}", now, agent)
                self.calls += 1
                await self._sleep(rnd.uniform(2, 20), end)
                await calls.answer(call_id, dt.datetime.now(SHANGHAI))
                await self._state(seats, seat, agent, SeatState.TALKING)
                direct = rnd.random() < DIRECT_SHARE
                said = rnd.choice(DIRECT)[1] if direct else rnd.choice(COMPLAINTS)[2]
                for start in (0.0, 5.0):
                    await calls.add_utterance(call_id, said, start, start + 4.0)
                    await seats.heartbeat(seat.id, agent)
                    await self._sleep(rnd.uniform(30, 150), end)
                await calls.hang_up(call_id, dt.datetime.now(SHANGHAI), None, None)
                await self._state(seats, seat, agent, SeatState.WRAP_UP)
                await self._sleep(rnd.uniform(20, 120), end)
                if direct:
                    article, question = rnd.choice(DIRECT)
                    draft = TicketDraft(ticket_type=TicketType.CONSULTATION, content=question,
                                        caller_number="13805331234",
                                        handling_mode=HandlingMode.DIRECT, kb_article_id=article, call_id=call_id,
                                        seat_id=seat.id, agent_id=agent)
                else:
                    kind, category, content = rnd.choice(COMPLAINTS)
                    draft = TicketDraft(ticket_type=kind, content=content, caller_number="13805331234",
                                        category_code=category, address_code=rnd.choice(ADDRESSES),
                                        unit_code="ZD", call_id=call_id, seat_id=seat.id, agent_id=agent)
                self.submitted.append((await writer.submit(draft)).draft.idempotency_key)
                await self._state(seats, seat, agent, SeatState.READY)
            await self._state(seats, seat, agent, SeatState.OFFLINE)
        finally:
            await writer.replay()
            await writer.close()
            await conn.close()

    def _listen(self, connection, pid, channel, payload) -> None:
        at = dt.datetime.fromisoformat(json.loads(payload)["at"]).timestamp()
        self.notify_lags_ms.append(max(0.0, (time.time() - at) * 1000))
        self.notified += 1

    async def run(self) -> dict:
        listener = await asyncpg.connect(self.dsn)
        await listener.add_listener("seat_events", self._listen)
        end = time.monotonic() + self.seconds
        await asyncio.gather(*(self.seat(s, end) for s in self.seats))
        await asyncio.sleep(0.5)  # the last notifications
        await listener.close()
        conn = await asyncpg.connect(self.dsn)
        stored = await TicketStore(conn).count_stored(self.submitted)
        await conn.close()
        return {"seats": len(self.seats), "calls": self.calls, "tickets_submitted": len(self.submitted),
                "tickets_stored": stored, "seat_events": self.seat_events, "notified": self.notified,
                "notify_lag_p99_ms": round(percentile(self.notify_lags_ms, 0.99), 1)
                if self.notify_lags_ms else None}
