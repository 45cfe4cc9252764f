"""One seat's work, without UI: the seat's state, the call's phase, the call record, the
recogniser and the recording, the address heard, knowledge found, and the ticket saved.

A screen (console.agent) renders the `SessionEvent`s this emits and sends the agent's
commands (`answer`, `hang_up`, `confirm_address`, `save` …); the next audio source (a SIP
call) plugs in as another line.  Recognition runs on its own thread; its events are queued
onto the session's event loop and handled there one by one, in order, so the seat state,
the call row and the screen never race each other.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import asyncpg

from db.calls import CallStore
from db.connect import UNAVAILABLE, DatabaseUnavailable, connect, is_unavailable
from db.outbox import Submission
from db.seats import SeatStore
from db.tickets import TicketStore
from domain.seats import check_agent_id, check_seat_change
from domain.tickets import TicketDraft
from domain.vocabulary import CallPhase, HandlingMode, SeatState, Speaker
from domain.workdays import SHANGHAI
from geo.gazetteer import Address
from geo.matcher import MatchResult
from geo.service import AddressTracker
from kb.classify import suggest_type
from kb.search import KbResult
from speech.audio import AudioError
from speech.recognizer import CallTranscriber, Ended, Final, Partial, RecognizerPool
from speech.recorder import CallRecorder, recording_path
from telephony.errors import TelephonyError

from .context import SeatContext
from .lines import IncomingCall

log = logging.getLogger(__name__)
CATEGORY_CONFIDENCE = 0.2  # below this the category is not suggested


# -- what the session tells its screen ---------------------------------------------------------
@dataclass(frozen=True)
class SeatChanged:
    state: SeatState
    reason: str = ""


@dataclass(frozen=True)
class Ringing:
    caller_number: str
    history: list  # the caller's latest tickets (ticket_no, ticket_type, status)


@dataclass(frozen=True)
class Answered:
    caller_number: str
    transcribing: bool  # False: no speech model, the call is only recorded
    captions: bool = False  # the line's own script is shown instead (演示字幕)


@dataclass(frozen=True)
class Missed:
    caller_number: str


@dataclass(frozen=True)
class Heard:
    """A partial (still changing) or final utterance of the caller or, on a line that carries
    both voices, of the agent."""

    text: str
    final: bool
    start: float  # seconds into the call
    recognised_at: float  # time.monotonic() when the recogniser produced it
    speaker: Speaker = Speaker.CALLER


_NOTHING_HEARD = MatchResult("", "", (), False, 0.0)  # no address said (no doubt either)


@dataclass(frozen=True)
class AddressSuggested:
    result: MatchResult
    recognised_at: float | None  # None for a typed search


@dataclass(frozen=True)
class KnowledgeFound:
    result: KbResult


@dataclass(frozen=True)
class TicketSuggested:
    ticket_type: str
    category_code: str | None
    content: str | None  # a draft of the request; None when suggested from what the agent typed


@dataclass(frozen=True)
class CallFinished:
    """The call ended (either side hung up, or the audio stopped): the seat is in 话后整理."""

    caller_number: str
    seconds: float
    reason: str


@dataclass(frozen=True)
class TicketSaved:
    number: str | None  # None: queued in the outbox until the database is back
    handling_mode: str
    unit_name: str | None


@dataclass(frozen=True)
class DatabaseStatus:
    """The seat lost (or got back) its database: it keeps working, its writes wait."""

    online: bool
    waiting: int = 0  # writes waiting for the database


@dataclass(frozen=True)
class PhoneStatus:
    """The seat's SIP phone registered (or failed to: the text says why, in Chinese)."""

    registered: bool
    text: str


@dataclass(frozen=True)
class CallHeld:
    """The caller is on hold (保持), or back (恢复)."""

    on_hold: bool


@dataclass(frozen=True)
class KeyPressed:
    """The caller pressed a key on the phone (RFC 4733 DTMF)."""

    digit: str


SessionEvent = (DatabaseStatus | SeatChanged | Ringing | Answered | Missed | Heard | AddressSuggested | KnowledgeFound
                | TicketSuggested | CallFinished | TicketSaved | PhoneStatus | KeyPressed | CallHeld)


class SessionRefused(Exception):
    """A command the session cannot carry out now; the message is for the agent."""


@dataclass
class TicketInput:
    """What the agent's form holds when the ticket is saved."""

    ticket_type: str
    urgency: str
    category_code: str | None
    caller_number: str
    content: str


@dataclass
class Call:
    """The call on the seat: from ringing to its ticket."""

    incoming: IncomingCall
    call_id: int | None  # None: it rang while the database was away (stored whole later)
    tracker: AddressTracker
    ring_at: dt.datetime
    answer_at: dt.datetime | None = None
    finals: list[str] = field(default_factory=list)
    utterances: list[dict] = field(default_factory=list)
    recorder: CallRecorder | None = None
    transcriber: CallTranscriber | None = None
    hang_up: threading.Event = field(default_factory=threading.Event)  # for a call without recognition
    on_hold: bool = False

    @property
    def caller_number(self) -> str:
        return self.incoming.caller_number


@dataclass
class AddressChoice:
    """The candidates shown (heard or typed) and the one the agent confirmed."""

    suggestions: list[Address] = field(default_factory=list)
    confirmed: Address | None = None
    # the agent searched: what the caller says next no longer replaces the list (it did, with
    # the first sentence after the search), until the search box is emptied
    typed: bool = False


class CallSession:
    def __init__(self, ctx: SeatContext, emit: Callable[[SessionEvent], None],
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(SHANGHAI), take_over: bool = False):
        self.ctx = ctx
        self.take_over = take_over  # sign out another console holding this seat (logged)
        self.emit = emit
        self.now = now
        self.state = SeatState.OFFLINE
        self.reason = ""
        self.phase = CallPhase.IDLE
        self.call: Call | None = None  # from ringing until its ticket is saved
        self.address = AddressChoice()
        self.saved: list[str] = []  # ticket numbers saved in this session
        # two recognisers ready: a phone call is heard on both sides
        self.pool = RecognizerPool(ctx.model, keep=2) if ctx.model is not None else None
        self.conn: asyncpg.Connection | None = None
        self.online = False
        self._waiting: list[Callable[[asyncpg.Connection], Awaitable]] = []  # writes, in order
        self._reconnecting: asyncio.Task | None = None
        self._one_at_a_time = asyncio.Lock()  # heartbeat, speech and keys share one connection
        self._speech: asyncio.Queue | None = None
        self._tasks: list[asyncio.Task] = []
        self._kb_search: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- seat --------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Sign the agent in on this seat (就绪) and start the heartbeat and outbox replay."""
        agent_id = check_agent_id(self.ctx.agent_id)
        self._loop = asyncio.get_running_loop()
        self.conn = await connect(self.ctx.dsn)
        self.online = True
        seats = SeatStore(self.conn)
        await seats.ensure_agent(self.ctx.seat_id, agent_id)
        await seats.claim(self.ctx.seat_id, agent_id, self.ctx.settings.alerts.offline_seconds, self.take_over)
        self.state = SeatState.OFFLINE
        await self._set_state(SeatState.READY)
        self._speech = asyncio.Queue()
        self._tasks = [asyncio.create_task(self._heartbeats()),
                       asyncio.create_task(self.ctx.writer.run_replayer()),
                       asyncio.create_task(self._handle_speech())]

    async def close(self) -> None:
        """Stop everything this session started (the seat state stays as it is)."""
        if self.call and self.call.transcriber:
            self.call.transcriber.stop()
        for task in [*self._tasks, self._kb_search, self._reconnecting]:
            if task:
                task.cancel()
        if self.conn and not self.conn.is_closed():
            try:
                await asyncio.wait_for(self.conn.close(), 2)
            except (asyncio.TimeoutError, *UNAVAILABLE):
                self.conn.terminate()
        await self.ctx.writer.close()

    # -- the database link -------------------------------------------------------------------------
    async def _db(self, step: Callable[[asyncpg.Connection], Awaitable], *, must_land: bool = False,
                  fallback=None):
        """One database step on the seat's connection. When the database is away the seat goes
        on: the step is kept to run on reconnection when it `must_land` (a write), otherwise
        `fallback` is returned (a read, a heartbeat)."""
        if self.online:
            try:
                async with self._one_at_a_time:
                    return await step(self.conn)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                self._went_away(exc)
        if must_land:
            self._waiting.append(step)
        return fallback

    def _went_away(self, exc: BaseException) -> None:
        log.warning("database unavailable (%s): the seat works on, its writes wait", exc)
        self.online = False
        self.emit(DatabaseStatus(False, len(self._waiting)))
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        """Back off from 0.5 s to 10 s between tries; on success run the waiting writes in
        order, then the seat is online again."""
        delay = 0.5
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
            try:
                conn = await connect(self.ctx.dsn, timeout=5)
            except DatabaseUnavailable:
                continue
            try:
                while self._waiting:
                    try:
                        await self._waiting[0](conn)
                    except Exception as exc:
                        if is_unavailable(exc):
                            raise
                        # refused for good (it can never land): say so, and do not block the rest
                        log.exception("a write that waited for the database was refused; dropped")
                    self._waiting.pop(0)
                await SeatStore(conn).heartbeat(self.ctx.seat_id, self.ctx.agent_id)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                await conn.close(timeout=1)
                continue
            old, self.conn, self.online = self.conn, conn, True
            if old is not None and not old.is_closed():
                old.terminate()
            self.emit(DatabaseStatus(True))
            return

    async def _set_state(self, state: SeatState, reason: str | None = None) -> None:
        check_seat_change(self.state, state, reason)
        at = dt.datetime.now(SHANGHAI)  # when it happened, also if it is written later
        seat, agent = self.ctx.seat_id, self.ctx.agent_id
        await self._db(lambda c: SeatStore(c).record_state(seat, agent, state, reason, at), must_land=True)
        self.state, self.reason = state, reason or ""
        self.emit(SeatChanged(state, self.reason))

    async def _heartbeats(self) -> None:
        """Beat, and close any seat whose console stopped beating (whoever notices first)."""
        silent_for = self.ctx.settings.alerts.offline_seconds
        while True:
            await asyncio.sleep(self.ctx.settings.console.heartbeat_seconds)
            await self._db(lambda c: SeatStore(c).heartbeat(self.ctx.seat_id, self.ctx.agent_id))
            await self._db(lambda c: SeatStore(c).close_silent(silent_for))

    async def take_break(self, reason: str) -> None:
        if self.phase != CallPhase.IDLE:
            raise SessionRefused("通话中不能小休")
        await self._set_state(SeatState.BREAK, reason)

    async def back_to_ready(self) -> None:
        await self._set_state(SeatState.READY)

    async def sign_out(self) -> None:
        if self.phase in (CallPhase.RINGING, CallPhase.TALKING):
            raise SessionRefused("通话中不能签退")
        await self._set_state(SeatState.OFFLINE)

    async def leave(self, reason: str) -> None:
        """The console is going away (its terminal was lost, it was told to stop): end the
        call with the reason, keep its recording, and sign the seat out."""
        call = self.call
        if call is not None and self.phase in (CallPhase.RINGING, CallPhase.TALKING):
            if call.transcriber:
                call.transcriber.stop()
            call.hang_up.set()
            recorded = call.recorder.close() if call.recorder else None
            path, end_at = (str(call.recorder.path) if call.recorder else None), self.now()
            await self._call_write(call, lambda c, call_id: CallStore(c).hang_up(
                call_id, end_at, path, recorded, reason), ended=end_at, recording=(path, recorded))
            self.phase = CallPhase.IDLE
        if self.state != SeatState.OFFLINE:
            at = dt.datetime.now(SHANGHAI)
            seat, agent = self.ctx.seat_id, self.ctx.agent_id
            await self._db(lambda c: SeatStore(c).record_state(seat, agent, SeatState.OFFLINE, reason[:64], at))
            self.state = SeatState.OFFLINE

    # -- a call ------------------------------------------------------------------------------------
    async def ring(self, line) -> bool:
        """Offer a call from `line` to the seat; False when the seat cannot take one now."""
        if self.phase != CallPhase.IDLE or self.state != SeatState.READY:
            return False
        try:
            incoming = line.incoming()
        except (AudioError, OSError) as exc:  # e.g. the headset is not plugged in
            raise SessionRefused(f"无法接入来电：{exc}") from exc
        ring_at = self.now()
        call_id = await self._db(lambda c: CallStore(c).ring(self.ctx.seat_id, incoming.caller_number,
                                                             ring_at, self.ctx.agent_id))
        self.call = Call(incoming, call_id, AddressTracker(self.ctx.matcher,
                                                           self.ctx.settings.console.address_window), ring_at)
        self.phase = CallPhase.RINGING
        self.address = AddressChoice()
        history = await self._db(lambda c: TicketStore(c).by_caller(incoming.caller_number, 3), fallback=[]) \
            if incoming.caller_number else []  # a hidden number has no history
        self.emit(Ringing(incoming.caller_number, list(history)))
        return True

    async def _call_write(self, call: Call, step, ended: dt.datetime | None = None,
                          recording: tuple[str | None, float | None] = (None, None)) -> None:
        """A change to the call row; a call that rang while the database was away has no row
        yet and is stored whole when it ends."""
        if call.call_id is not None:
            await self._db(lambda c: step(c, call.call_id), must_land=True)
        elif ended is not None:
            seat, agent = self.ctx.seat_id, self.ctx.agent_id
            await self._db(lambda c: CallStore(c).insert_finished(
                seat, agent, call.caller_number, call.ring_at, call.answer_at, ended, *recording,
                list(call.utterances)), must_land=True)

    async def answer(self) -> None:
        if self.phase != CallPhase.RINGING:
            return
        call = self.call
        self.phase = CallPhase.TALKING
        await self._set_state(SeatState.TALKING)
        call.answer_at = self.now()
        if call.incoming.on_answer:
            call.incoming.on_answer()  # the phone line: 200 OK
        call.recorder = CallRecorder(recording_path(self.ctx.recordings, self.ctx.seat_id, self.now(),
                                                    call.caller_number), call.incoming.channels)
        path = str(call.recorder.path)
        await self._call_write(call, lambda c, call_id: CallStore(c).answer(call_id, call.answer_at, path))
        captions = self.pool is None and bool(call.incoming.script)
        self.emit(Answered(call.caller_number, self.pool is not None, captions))
        if self.pool is None:
            threading.Thread(target=self._record_only, args=(call,), name="call-recorder", daemon=True).start()
            if captions:
                self._tasks.append(asyncio.create_task(self._captions(call)))
            return
        agent_channel = call.incoming.agent_channel
        call.transcriber = CallTranscriber(
            self.pool.take(), call.incoming.source, self._from_recogniser, on_audio=call.recorder,
            speaker=Speaker.CALLER,
            agent=(self.pool.take(), agent_channel, Speaker.AGENT) if agent_channel is not None else None)
        call.transcriber.start()

    def _record_only(self, call: Call) -> None:
        """No speech model: the call is still recorded (on its own thread)."""
        seconds = 0.0
        for chunk in call.incoming.source.chunks():
            if call.hang_up.is_set():
                break
            if hasattr(chunk, "pcm"):
                call.recorder(chunk)
                seconds = chunk.start + chunk.seconds
        self._from_recogniser(Ended(seconds, "source ended"))

    async def _captions(self, call: Call) -> None:
        """No speech model: the caller's known script, paced over the call like a recogniser's
        partials and finals, so address, knowledge and ticket work as in a recognised call."""
        script = call.incoming.script
        total = sum(len(u) for u in script)
        seconds_per_char = (call.incoming.seconds or total * 0.25) * 0.9 / max(total, 1)
        at = 0.0
        for utterance in script:
            start = at
            for end in range(2, len(utterance), 2):
                await asyncio.sleep(2 * seconds_per_char)
                if self.call is not call or self.phase != CallPhase.TALKING:
                    return
                self.hear(Partial(utterance[:end], round(start + end * seconds_per_char, 2), time.monotonic()))
            await asyncio.sleep(seconds_per_char * (len(utterance) % 2 or 2))
            if self.call is not call or self.phase != CallPhase.TALKING:
                return
            at = start + len(utterance) * seconds_per_char
            self.hear(Final(utterance, round(start, 2), round(at, 2), (), None, time.monotonic()))

    def _from_recogniser(self, event: Partial | Final | Ended) -> None:
        """Called on the recognition thread: queue the event for the session's loop."""
        self._loop.call_soon_threadsafe(self._speech.put_nowait, event)

    def hear(self, event: Partial | Final | Ended) -> None:
        """Feed what a recogniser heard (from the loop): for lines that bring their own
        transcript, e.g. a simulated call or a transcript relayed by another system."""
        self._speech.put_nowait(event)

    async def _handle_speech(self) -> None:
        while True:
            event = await self._speech.get()
            try:
                if self.phase != CallPhase.TALKING:
                    continue  # a late event of a call that has ended
                if isinstance(event, (Partial, Final)) and event.speaker == Speaker.AGENT:
                    await self._agent_said(event)
                elif isinstance(event, Partial):
                    self.emit(Heard(event.text, False, event.audio_end, event.wall))
                    self._follow_address("".join(self.call.finals) + event.text, event.wall)
                elif isinstance(event, Final):
                    await self._final(event)
                elif isinstance(event, Ended):
                    await self._call_ended(event.seconds, event.reason)
            except Exception:  # one bad event must not stop the call's transcript
                log.exception("handling %s failed", type(event).__name__)

    async def _final(self, event: Final) -> None:
        call = self.call
        call.finals.append(event.text)
        self.emit(Heard(event.text, True, event.start, event.wall))
        said = "".join(call.finals)
        self._follow_address(said, event.wall)
        if self.ctx.kb is not None:
            if self._kb_search:
                self._kb_search.cancel()  # a newer utterance makes it moot
            recent = "".join(call.finals[-self.ctx.settings.console.kb_utterances:])
            self._kb_search = asyncio.create_task(self._search_kb(recent))
        self.emit(self._suggested(said, "来电人反映：" + "，".join(call.finals) + "。"))
        await self._keep_utterance(event, Speaker.CALLER)

    async def _agent_said(self, event: Partial | Final) -> None:
        """The agent's own words: shown and kept in the transcript; the address, knowledge and
        ticket suggestions follow the citizen only."""
        if isinstance(event, Partial):
            self.emit(Heard(event.text, False, event.audio_end, event.wall, Speaker.AGENT))
            return
        self.emit(Heard(event.text, True, event.start, event.wall, Speaker.AGENT))
        await self._keep_utterance(event, Speaker.AGENT)

    async def _keep_utterance(self, event: Final, speaker: Speaker) -> None:
        call = self.call
        utterance = {"text": event.text, "start": event.start, "end": event.end, "speaker": speaker.value}
        call.utterances.append(utterance)
        await self._call_write(call, lambda c, call_id: CallStore(c).add_utterance(
            call_id, event.text, event.start, event.end, speaker.value))

    async def _search_kb(self, said: str) -> None:
        """Off the loop: sentence vectors take tens of ms."""
        self.emit(KnowledgeFound(await asyncio.to_thread(self.ctx.kb.search, said)))

    async def typed_content(self, text: str) -> None:
        """The agent typed the request: the knowledge pane and the type/category suggestions
        follow it as they follow speech (the typed text itself is not redrafted)."""
        if not text.strip():
            return
        await self.search_knowledge(text)
        self.emit(self._suggested(text, None))

    def _suggested(self, said: str, draft: str | None) -> TicketSuggested:
        """Type and category for what was said (or typed); the category only when the model
        is sure enough."""
        model = self.ctx.category_model
        category = model.suggest(said) if model else None
        return TicketSuggested(suggest_type(said).value,
                               category.value if category and category.confidence >= CATEGORY_CONFIDENCE
                               else None, draft)

    async def search_knowledge(self, text: str) -> KbResult | None:
        """A typed question (the agent's own words)."""
        if self.ctx.kb is None or not text.strip():
            return None
        result = await asyncio.to_thread(self.ctx.kb.search, text)
        self.emit(KnowledgeFound(result))
        return result

    def _follow_address(self, said: str, recognised_at: float) -> None:
        if self.address.confirmed is not None:
            return
        result = self.call.tracker.update(said)
        if self.address.typed:
            return
        self.address.suggestions = list(result.candidates)
        self.emit(AddressSuggested(result, recognised_at))

    async def hang_up(self) -> None:
        """The agent ends the call (or rejects it while it rings)."""
        if self.call is not None and self.call.incoming.on_hang_up:
            self.call.incoming.on_hang_up()  # the phone line: BYE, or 603 while it rings
        if self.phase == CallPhase.TALKING:
            if self.call.transcriber:
                self.call.transcriber.stop()  # its Ended event finishes the call
            else:
                self.call.hang_up.set()  # the recording thread stops and reports Ended
        elif self.phase == CallPhase.RINGING:
            call, end_at = self.call, self.now()
            await self._call_write(call, lambda c, call_id: CallStore(c).hang_up(call_id, end_at, None, None),
                                   ended=end_at)
            caller = call.caller_number
            self.call, self.phase = None, CallPhase.IDLE
            self.emit(Missed(caller))

    def _phone(self):
        """The call's SIP controls, while it is talking on a phone line."""
        if self.phase != CallPhase.TALKING:
            raise SessionRefused("通话中才能保持或转接")
        phone = self.call.incoming.phone
        if phone is None:
            raise SessionRefused("这条线路不是电话，不能保持或转接")
        return phone

    async def hold(self) -> bool:
        """Put the caller on hold, or take them back (保持 / 恢复); True when now on hold."""
        phone, call = self._phone(), self.call
        phone.resume() if call.on_hold else phone.hold()
        call.on_hold = not call.on_hold
        self.emit(CallHeld(call.on_hold))
        return call.on_hold

    async def transfer(self, number: str) -> None:
        """Blind transfer (REFER), e.g. an urgent case to a unit's duty phone; the caller's
        side then ends this call as usual (话后整理, the ticket still to file)."""
        try:
            self._phone().transfer(number)
        except TelephonyError as exc:
            raise SessionRefused(str(exc)) from exc

    async def _call_ended(self, seconds: float, reason: str) -> None:
        call = self.call
        self.phase = CallPhase.WRAP_UP
        if call.transcriber and self.pool:
            call.transcriber.join(1.0)  # Ended is its last act
            if not call.transcriber.is_alive():
                self.pool.give_back(*call.transcriber.recognizers)  # warm for the next call
        recorded = call.recorder.close() if call.recorder else None
        path, end_at = (str(call.recorder.path) if call.recorder else None), self.now()
        await self._call_write(call, lambda c, call_id: CallStore(c).hang_up(call_id, end_at, path, recorded),
                               ended=end_at, recording=(path, recorded))
        await self._set_state(SeatState.WRAP_UP)
        self.emit(CallFinished(call.caller_number, seconds, reason))

    # -- address -----------------------------------------------------------------------------------
    async def search_address(self, text: str) -> MatchResult | None:
        """A typed address: matched off the loop; its candidates become the suggestions and
        stay while the caller talks on.  An empty search goes back to what the caller said."""
        if not text.strip():
            if not self.address.typed:
                return None  # no search to undo (and a confirmed address stays)
            heard = self.call.tracker.heard if self.call else None
            self.address = AddressChoice(list(heard.candidates) if heard else [])
            self.emit(AddressSuggested(heard or _NOTHING_HEARD, None))
            return heard
        result = await asyncio.to_thread(self.ctx.matcher.match, text)
        self.address = AddressChoice(list(result.candidates), typed=True)
        self.emit(AddressSuggested(result, None))
        return result

    async def confirm_address(self, index: int) -> tuple[Address, list]:
        """Confirm suggestion `index`; returns it with the open tickets at that address."""
        if index >= len(self.address.suggestions):
            raise SessionRefused("没有这个地址候选")
        self.address.confirmed = self.address.suggestions[index]
        self.address.typed = False  # the search did its work: an empty one no longer undoes it
        address = self.address.confirmed
        return address, await self._db(
            lambda c: TicketStore(c).open_at_address(address.address_code, 3), fallback=[])

    # -- the ticket --------------------------------------------------------------------------------
    def ticket_info(self, ticket_type: str, urgency: str, category_code: str | None):
        """(unit, deadline) the ticket would get now — shown before saving."""
        return (self.ctx.route(self.address.confirmed, category_code),
                self.ctx.deadline(ticket_type, urgency, self.now()))

    async def save(self, form: TicketInput, handling_mode: str = HandlingMode.DISPATCH,
                   kb_article_id: str | None = None) -> Submission:
        """Validate and store the ticket (or queue it when the database is away), then the
        seat is 就绪 again. A TicketValidationError names every bad field."""
        if self.phase == CallPhase.RINGING:
            raise SessionRefused("来电振铃中：先接听（F3）")
        if self.phase == CallPhase.TALKING:
            raise SessionRefused("通话中：先挂断（F4）再保存")
        address = self.address.confirmed
        unit = self.ctx.route(address, form.category_code)
        draft = TicketDraft(
            ticket_type=form.ticket_type, content=form.content, caller_number=form.caller_number,
            urgency=form.urgency, handling_mode=handling_mode, category_code=form.category_code,
            address_code=address.address_code if address else None,
            address_text=address.full_address if address else "",
            unit_code=unit.code if (unit and handling_mode == HandlingMode.DISPATCH) else None,
            kb_article_id=kb_article_id, call_id=self.call.call_id if self.call else None,
            seat_id=self.ctx.seat_id, agent_id=self.ctx.agent_id)
        submission = await self.ctx.writer.submit(draft)
        number = submission.stored.ticket_no if submission.stored else None
        self.saved.append(number or "（已暂存本地，数据库恢复后自动补录）")
        self.call, self.phase, self.address = None, CallPhase.IDLE, AddressChoice()
        if self.state != SeatState.READY:
            await self._set_state(SeatState.READY)
        self.emit(TicketSaved(number, handling_mode,
                              unit.name if unit and handling_mode == HandlingMode.DISPATCH else None))
        return submission

