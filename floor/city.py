"""Days of a city's hotline in compressed time: the floor takes calls and files tickets, the
units sign, contact, reply, return and ask for more time, agents call citizens back,
supervisors chase overdue tickets, and the warning worker fires — all through the stores the
real programs use (TicketStore, CallStore, LifecycleStore), on a simulated clock.

Time moves as fast as the database keeps up: the next moment anything happens becomes "now",
everything due by then runs concurrently (each ticket has at most one step outstanding), and
the worker fires warnings against the same clock from its own connection, pass after pass.
The worker runs in a process of its own, as `hotline worker` does. The clock never runs more
than WORKER_SLACK ahead of the worker's last pass — a real worker wakes when a warning falls
due, and a clock that raced ahead of it would measure the simulation's speed, not the worker.
Its lag is measured in real time: from the moment the simulated clock reached a warning's due
time to the moment the warning was stored, under the simulation's load (far denser than a real
floor's, since days pass in seconds).
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import heapq
import itertools
import json
import math
import multiprocessing
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import asyncpg

from common.metrics import percentile
from db.calls import CallStore
from db.gazetteer import GazetteerStore
from db.kb import KbStore
from db.lifecycle import LifecycleStore
from db.rankings import unit_rankings
from db.reference import ReferenceStore
from db.seats import SeatStore
from db.tickets import TicketStore
from domain.lifecycle import LifecycleError, Request, Role, Satisfaction, Step
from domain.routing import route
from domain.settings import LifecycleSettings
from domain.tickets import TicketDraft, TicketRules
from domain.vocabulary import HandlingMode, TicketType, Urgency
from domain.workdays import SHANGHAI

# Calls per hour of the day (Asia/Shanghai), relative: quiet at night, peaks mid-morning and
# mid-afternoon, as a 12345 floor sees them.
HOURLY = (1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 4, 9, 11, 10.5, 9, 6, 7, 9.5, 9.5, 8.5, 7, 5, 4, 3.5, 3, 2, 1.4)
UNIT_HOURS = (8, 20)  # units' duty staff act from 8:00 to 20:00, every day
TYPES = ((TicketType.COMPLAINT, 0.42), (TicketType.HELP, 0.30), (TicketType.REPORT, 0.10),
         (TicketType.SUGGESTION, 0.08), (TicketType.CONSULTATION, 0.08), (TicketType.PRAISE, 0.02))
WORKER_SLACK = dt.timedelta(minutes=15)
VISIT_OUTCOMES = ((Satisfaction.SATISFIED, 0.90), (Satisfaction.BASICALLY, 0.06), (Satisfaction.DISSATISFIED, 0.04))


@dataclass(frozen=True)
class UnitHabits:
    """How one unit works: drawn once per unit, so some units are slow and some return a lot."""

    sign_median_minutes: float
    contact_median_minutes: float
    return_rate: float
    extension_rate: float
    late_rate: float

    @classmethod
    def draw(cls, rnd: random.Random) -> UnitHabits:
        slow = rnd.random() < 0.2
        return cls(sign_median_minutes=rnd.uniform(12, 30) if slow else rnd.uniform(3, 10),
                   contact_median_minutes=rnd.uniform(15, 40) if slow else rnd.uniform(5, 20),
                   return_rate=rnd.uniform(0.02, 0.12), extension_rate=rnd.uniform(0.02, 0.10),
                   late_rate=rnd.uniform(0.05, 0.20) if slow else rnd.uniform(0.0, 0.05))


@dataclass
class Reference:
    """What the simulation draws tickets from: the database's own reference data."""

    addresses: list[asyncpg.Record]
    categories: list[str]
    articles: list[str]
    rules: list
    units: list[str]


@dataclass
class CityResult:
    days: int
    calls: int = 0
    tickets: int = 0
    dispatched: int = 0
    steps: Counter = field(default_factory=Counter)
    refused: int = 0
    warnings: Counter = field(default_factory=Counter)
    lags_ms: list[float] = field(default_factory=list)
    pass_seconds: list[float] = field(default_factory=list)  # each pass of the worker
    events: int = 0
    units_ranked: int = 0
    seconds: float = 0.0

    def summary(self) -> dict:
        return {"days": self.days, "calls": self.calls, "tickets": self.tickets, "dispatched": self.dispatched,
                "events": self.events,
                "warnings": {level: self.warnings[level] for level in ("yellow", "orange", "red")},
                "units_ranked": self.units_ranked,
                "worker_lag_p99_ms": round(percentile(self.lags_ms, 0.99), 1) if self.lags_ms else None,
                "worker_pass_p99_ms": round(percentile(self.pass_seconds, 0.99) * 1000, 1) if self.pass_seconds else None,
                "steps": dict(self.steps), "refused": self.refused, "seconds": round(self.seconds, 1)}


def _weighted(rnd: random.Random, pairs) -> object:
    return rnd.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def _lognormal_minutes(rnd: random.Random, median: float) -> dt.timedelta:
    return dt.timedelta(minutes=median * math.exp(rnd.gauss(0, 0.6)))


def _on_duty(at: dt.datetime) -> dt.datetime:
    """The moment a unit's duty staff can act on something that reached them at `at`."""
    local = at.astimezone(SHANGHAI)
    start, end = UNIT_HOURS
    if local.hour < start:
        return local.replace(hour=start, minute=0, second=0, microsecond=0)
    if local.hour >= end:
        return (local + dt.timedelta(days=1)).replace(hour=start, minute=0, second=0, microsecond=0)
    return local


class CitySimulation:
    def __init__(self, dsn: str, worker_dsn: str, start: dt.datetime, days: int, calls_per_day: int,
                 units_act: bool, rules: TicketRules, settings: LifecycleSettings, seed: int = 12345,
                 direct_share: float = 0.61, connections: int = 6,
                 progress: Callable[[dt.datetime, CityResult], None] | None = None):
        self.dsn, self.worker_dsn = dsn, worker_dsn
        self.start, self.end = start, start + dt.timedelta(days=days)
        self.calls_per_day, self.units_act = calls_per_day, units_act
        self.rules, self.settings = rules, settings
        self.rnd = random.Random(seed)
        self.direct_share, self.connections = direct_share, connections
        self.progress = progress
        self.result = CityResult(days)
        self.clock = start
        self._queue: list[tuple[dt.datetime, int, Callable[[], Awaitable[None]]]] = []
        self._seq = itertools.count()
        self._passed: list[tuple[float, float]] = []  # (simulated epoch, wall time it was reached)
        self._habits: dict[str, UnitHabits] = {}
        context = multiprocessing.get_context("spawn")
        self._context = context
        self._clock = context.Value("d", start.timestamp(), lock=False)  # the simulated now, shared
        self._worker_clock = context.Value("d", start.timestamp(), lock=False)  # of its last pass
        self._done = context.Value("b", 0, lock=False)

    # --- the schedule -------------------------------------------------------------------------

    def at(self, when: dt.datetime, action: Callable[[], Awaitable[None]]) -> None:
        if when < self.end:
            heapq.heappush(self._queue, (when, next(self._seq), action))

    def _advance(self, to: dt.datetime) -> None:
        self.clock = to
        self._passed.append((to.timestamp(), time.monotonic()))
        self._clock.value = to.timestamp()

    def _reached(self, simulated: float) -> float | None:
        """The wall time at which the simulated clock first reached `simulated`."""
        i = bisect.bisect_left(self._passed, (simulated, -1.0))
        return self._passed[i][1] if i < len(self._passed) else None

    # --- the floor ----------------------------------------------------------------------------

    def _plan_calls(self) -> None:
        day = self.start
        while day < self.end:
            weights = HOURLY
            total = sum(weights)
            for hour, weight in enumerate(weights):
                for _ in range(self._poisson(self.calls_per_day * weight / total)):
                    when = day + dt.timedelta(hours=hour, seconds=self.rnd.uniform(0, 3600))
                    self.at(when, lambda when=when: self._call(when))
            day += dt.timedelta(days=1)

    def _poisson(self, mean: float) -> int:
        # Knuth's method is fine for the small hourly means here; a normal for large ones.
        if mean > 30:
            return max(0, round(self.rnd.gauss(mean, math.sqrt(mean))))
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rnd.random()
            if p <= limit:
                return k
            k += 1

    async def _call(self, ring: dt.datetime) -> None:
        rnd = self.rnd
        answer = ring + dt.timedelta(seconds=rnd.uniform(3, 25))
        end = answer + dt.timedelta(seconds=rnd.lognormvariate(math.log(150), 0.5))
        caller = f"1{rnd.choice('3578')}{rnd.randrange(10**9):09d}"
        seat = rnd.randrange(1, self.seats + 1)
        call_id = await CallStore(self.pool).insert_finished(seat, f"S{seat:03d}", caller, ring, answer, end,
                                                             None, None, [])
        self.result.calls += 1
        accepted = end + dt.timedelta(seconds=rnd.uniform(20, 90))  # 话后整理
        ref = self.reference
        if rnd.random() < self.direct_share:
            draft = TicketDraft(ticket_type=TicketType.CONSULTATION, content="咨询政策，已按知识库答复",
                                caller_number=caller, handling_mode=HandlingMode.DIRECT,
                                kb_article_id=rnd.choice(ref.articles), call_id=call_id, seat_id=seat,
                                agent_id=f"S{seat:03d}", accepted_at=accepted)
            await TicketStore(self.pool, self.rules).submit(draft)
            self.result.tickets += 1
            return
        address = rnd.choice(ref.addresses)
        category = rnd.choice(ref.categories)
        unit = route(ref.rules, address["district_code"], address["town_code"], category)
        draft = TicketDraft(ticket_type=_weighted(rnd, TYPES), content="市民反映的问题（模拟）",
                            caller_number=caller, urgency=Urgency.URGENT if rnd.random() < 0.03 else Urgency.NORMAL,
                            category_code=category, address_code=address["address_code"],
                            address_text=address["full_address"], unit_code=unit.code if unit else rnd.choice(ref.units),
                            call_id=call_id, seat_id=seat, agent_id=f"S{seat:03d}", accepted_at=accepted)
        stored = await TicketStore(self.pool, self.rules).submit(draft)
        self.result.tickets += 1
        self.result.dispatched += 1
        if self.units_act:
            self._dispatched(stored.id, draft.unit_code, accepted, stored.deadline_at)

    # --- the units and the hotline after the call -----------------------------------------------

    def habits(self, unit: str) -> UnitHabits:
        if unit not in self._habits:
            self._habits[unit] = UnitHabits.draw(random.Random(f"{unit}:{self.rnd.random()}"))
        return self._habits[unit]

    async def _step(self, ticket_id: int, step: Step, role: Role, actor: str, at: dt.datetime,
                    **fields) -> bool:
        try:
            await LifecycleStore(self.pool).apply(ticket_id, Request(step, role, actor, **fields), at)
        except LifecycleError:
            self.result.refused += 1  # e.g. a 督办 on a ticket the unit replied to meanwhile
            return False
        self.result.steps[step.value] += 1
        return True

    def _dispatched(self, ticket_id: int, unit: str, at: dt.datetime, deadline: dt.datetime) -> None:
        habits, rnd = self.habits(unit), self.rnd
        sign_at = _on_duty(at + _lognormal_minutes(rnd, habits.sign_median_minutes))
        if rnd.random() < habits.return_rate:
            self.at(sign_at, lambda: self._return(ticket_id, unit, sign_at))
        else:
            self.at(sign_at, lambda: self._sign(ticket_id, unit, sign_at, deadline))

    async def _return(self, ticket_id: int, unit: str, at: dt.datetime) -> None:
        if not await self._step(ticket_id, Step.RETURN, Role.UNIT, unit, at, unit_code=unit,
                                text="不属于本单位职责"):
            return
        review = at + dt.timedelta(minutes=self.rnd.uniform(20, 120))
        self.at(review, lambda: self._review_return(ticket_id, unit, review))

    async def _review_return(self, ticket_id: int, unit: str, at: dt.datetime) -> None:
        ref, rnd = self.reference, self.rnd
        if rnd.random() < 0.7:  # the return was right: another unit gets it
            other = rnd.choice([u for u in ref.units if u != unit])
            if await self._step(ticket_id, Step.REDISPATCH, Role.HOTLINE, "hotline", at, unit_code=other,
                                text="退单审核通过，改派"):
                state = await LifecycleStore(self.pool).state(ticket_id)
                self._dispatched(ticket_id, other, at, state.deadline)
        elif await self._step(ticket_id, Step.REFUSE_RETURN, Role.HOTLINE, "hotline", at,
                              text="属本单位职责，退单不予通过"):
            state = await LifecycleStore(self.pool).state(ticket_id)
            self._signed(ticket_id, unit, at, state.deadline)

    async def _sign(self, ticket_id: int, unit: str, at: dt.datetime, deadline: dt.datetime) -> None:
        if await self._step(ticket_id, Step.SIGN, Role.UNIT, unit, at, unit_code=unit):
            self._signed(ticket_id, unit, at, deadline)

    def _signed(self, ticket_id: int, unit: str, at: dt.datetime, deadline: dt.datetime) -> None:
        habits, rnd = self.habits(unit), self.rnd
        contact_at = _on_duty(at + _lognormal_minutes(rnd, habits.contact_median_minutes))

        async def contact() -> None:
            if not await self._step(ticket_id, Step.CONTACT, Role.UNIT, unit, contact_at, unit_code=unit,
                                    text="已电话联系市民"):
                return
            due = deadline
            if rnd.random() < habits.extension_rate:
                asked = contact_at + dt.timedelta(hours=rnd.uniform(2, 24))
                due = deadline + dt.timedelta(days=3)
                self.at(asked, lambda: self._extension(ticket_id, unit, asked, due))
            # The reply: usually within the time left, sometimes after it.
            left = max(dt.timedelta(hours=1), due - contact_at)
            share = rnd.uniform(1.0, 1.6) if rnd.random() < habits.late_rate else rnd.uniform(0.1, 0.95)
            reply_at = _on_duty(contact_at + left * share)
            self.at(reply_at, lambda: self._reply(ticket_id, unit, reply_at))

        self.at(contact_at, contact)

    async def _extension(self, ticket_id: int, unit: str, at: dt.datetime, due: dt.datetime) -> None:
        if not await self._step(ticket_id, Step.REQUEST_EXTENSION, Role.UNIT, unit, at, unit_code=unit,
                                text="需协调多个部门", due_at=due):
            return
        decide_at = at + dt.timedelta(hours=self.rnd.uniform(1, 6))
        approve = self.rnd.random() < 0.75

        async def decide() -> None:
            step = Step.APPROVE_EXTENSION if approve else Step.REFUSE_EXTENSION
            await self._step(ticket_id, step, Role.HOTLINE, "hotline", decide_at, text="同意" if approve else "不同意延期")

        self.at(decide_at, decide)

    async def _reply(self, ticket_id: int, unit: str, at: dt.datetime) -> None:
        if not await self._step(ticket_id, Step.REPLY, Role.UNIT, unit, at, unit_code=unit, text="已处理完毕"):
            return
        # 回访: agents call back the next day during office hours.
        local = at.astimezone(SHANGHAI)
        visit_at = (local + dt.timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0) \
            + dt.timedelta(minutes=self.rnd.uniform(0, 480))
        self.at(visit_at, lambda: self._visit(ticket_id, unit, visit_at))

    async def _visit(self, ticket_id: int, unit: str, at: dt.datetime) -> None:
        outcome = _weighted(self.rnd, VISIT_OUTCOMES)
        if not await self._step(ticket_id, Step.VISIT, Role.HOTLINE, "agent", at, outcome=outcome):
            return
        if outcome == Satisfaction.DISSATISFIED:  # 重办 to the same unit, a new turn
            state = await LifecycleStore(self.pool).state(ticket_id)
            self._dispatched(ticket_id, unit, at, max(state.deadline, at + dt.timedelta(days=3)))
            return
        # 归档 follows a satisfied call-back within the working day (it was up to a day later, so
        # three simulated days could end with call-backs but no archive: a flaky city test)
        archive_at = at + dt.timedelta(hours=self.rnd.uniform(0.5, 4))
        self.at(archive_at, lambda: self._step(ticket_id, Step.ARCHIVE, Role.HOTLINE, "hotline", archive_at))

    def _plan_supervision(self) -> None:
        day = self.start.astimezone(SHANGHAI).replace(hour=9, minute=30, second=0, microsecond=0)
        while day < self.end:
            self.at(day, lambda day=day: self._supervise(day))
            day += dt.timedelta(days=1)

    async def _supervise(self, now: dt.datetime) -> None:
        """The morning round: a 督办 for every overdue ticket that has none open."""
        board = await LifecycleStore(self.pool).needing_supervision(now)
        for row in board:
            if row["overdue"] and row["supervision_by"] is None and row["status"] != "退单":
                answer_by = now + dt.timedelta(days=1)
                if await self._step(row["ticket_id"], Step.SUPERVISE, Role.SUPERVISOR, "supervisor", now,
                                    text="超期未办结，请于明日前回复", due_at=answer_by):
                    unit = row["unit_code"]
                    answer_at = _on_duty(now + dt.timedelta(hours=self.rnd.uniform(1, 8)))
                    self.at(answer_at, lambda t=row["ticket_id"], u=unit, a=answer_at: self._step(
                        t, Step.ANSWER_SUPERVISION, Role.UNIT, u, a, unit_code=u, text="正在加紧办理"))

    # --- running --------------------------------------------------------------------------------

    async def _load_reference(self) -> Reference:
        async with self.pool.acquire() as conn:
            addresses = await GazetteerStore(conn).sample(2000, seed=self.rnd.random())
            categories = [c.code for c in await ReferenceStore(conn).categories(level=3)]
            articles = [a["id"] for a in await KbStore(conn).articles()]
            reference = ReferenceStore(conn)
            units = [u.code for u in await reference.units()]
            return Reference(addresses, categories, articles, await reference.routing_rules(), units)

    async def run(self) -> dict:
        began = time.monotonic()
        self.pool = await asyncpg.create_pool(self.dsn, min_size=2, max_size=self.connections)
        worker = None
        try:
            self.reference = await self._load_reference()
            if not (self.reference.addresses and self.reference.categories and self.reference.articles):
                raise RuntimeError("the database has no gazetteer, taxonomy or knowledge base to draw tickets from")
            self._plan_calls()
            if self.units_act:
                self._plan_supervision()
            async with self.pool.acquire() as conn:
                seats = SeatStore(conn)
                self.seats = await seats.count()
                for seat in range(1, self.seats + 1):
                    await seats.ensure_agent(seat, f"S{seat:03d}")
            self._advance(self.start)
            fired = self._context.Queue()
            worker = self._context.Process(target=warning_worker, name="warning-worker", daemon=True, args=(
                self.worker_dsn, self.settings, self._clock, self._worker_clock, self._done, fired))
            worker.start()
            last_report = time.monotonic()
            limit = asyncio.Semaphore(self.connections * 2)

            async def limited(action):
                async with limit:
                    await action()

            while self._queue:
                now = self._queue[0][0]
                while now.timestamp() > self._worker_clock.value + WORKER_SLACK.total_seconds():
                    # let the worker catch up
                    self._advance(dt.datetime.fromtimestamp(self._worker_clock.value, SHANGHAI) + WORKER_SLACK)
                    while self._worker_clock.value < self.clock.timestamp():
                        if not worker.is_alive():
                            raise RuntimeError("the warning worker died (see its error above)")
                        await asyncio.sleep(0.002)
                self._advance(now)
                batch = []
                while self._queue and self._queue[0][0] <= now + dt.timedelta(minutes=1):
                    batch.append(heapq.heappop(self._queue)[2])
                await asyncio.gather(*(limited(a) for a in batch))
                if self.progress and time.monotonic() - last_report > 1:
                    self.progress(now, self.result)
                    last_report = time.monotonic()
            self._advance(self.end)
            self._done.value = 1
            warnings, passes = await asyncio.to_thread(fired.get, True, 600)
            self.result.pass_seconds = passes
            async with self.pool.acquire() as conn:
                starts = await LifecycleStore(conn).timer_starts(self.start, self.end)
            for ticket_id, timer, level, fire_at, fired_at, stored in warnings:
                self.result.warnings[level] += 1
                began = _timer_began(starts.get(ticket_id, ()), timer, fired_at)
                reached = self._reached(max(fire_at, began))
                if reached is not None:
                    self.result.lags_ms.append(max(0.0, (stored - reached) * 1000))
            await asyncio.to_thread(worker.join, 60)
            async with self.pool.acquire() as conn:
                self.result.events = await TicketStore(conn).count_events(self.start, self.end)
            ranked = await unit_rankings(self.pool, self.start, self.end, self.settings, self.end)
            self.result.units_ranked = len(ranked)
        finally:
            if worker is not None and worker.is_alive():
                worker.terminate()
            await self.pool.close()
        self.result.seconds = time.monotonic() - began
        return self.result.summary()


TIMER_STARTS = {"sign": ("turn",), "contact": ("turn",), "handle": ("turn", "deadline"),
                "supervision": ("supervision",)}


def _timer_began(starts, timer: str, fired_at: float) -> float:
    """When the warning's timer was last started or moved before the warning fired. A step
    can set a timer whose warning moment has already passed (an extension approved after half
    the old time had run, a re-dispatch): that warning is due at the step, not before the
    timer existed."""
    moments = [at for at, what in starts if what in TIMER_STARTS.get(timer, ()) and at <= fired_at]
    return moments[-1] if moments else 0.0


def warning_worker(dsn: str, settings: LifecycleSettings, clock, worker_clock, done, fired) -> None:
    """The warning worker in its own process, as `hotline worker` runs beside the consoles:
    pass after pass on the shared simulated clock; puts the (ticket, timer, level, due
    moment, the pass's simulated now, stored at) of every warning it fired, and how long each
    pass took, on `fired` when the simulation is done."""

    async def work() -> tuple[list[tuple[int, str, str, float, float, float]], list[float]]:
        conn = await asyncpg.connect(dsn)
        store, log, passes = LifecycleStore(conn), [], []
        try:
            while True:
                finished, now = done.value, clock.value
                began = time.monotonic()
                rows = await store.fire_warnings(dt.datetime.fromtimestamp(now, SHANGHAI), settings)
                stored = time.monotonic()  # the same clock in every process of this machine
                passes.append(stored - began)
                for row in rows:
                    payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
                    log.append((row["ticket_id"], payload["timer"], payload["level"], float(payload["fire_at"]), now,
                                stored))
                worker_clock.value = now
                if finished:
                    return log, passes
                await asyncio.sleep(0.005)
        finally:
            await conn.close()

    fired.put(asyncio.run(work()))
