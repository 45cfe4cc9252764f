"""The seat's SIP phone as the call session's line: a call from the PBX rings the session with
the caller's number (repeat-caller lookup included), the agent's answer and hang-up go back to
the phone as SIP, the caller's BYE ends the call the same way as the agent's, a caller who
gives up before the answer is a missed call, and the registration shows in the seat bar.

The call's audio is stereo — caller left, agent right (telephony/media.py). With a headset
both sides are transcribed, each by its own recogniser (市民 / 话务员); address and knowledge
suggestions follow the citizen only."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Callable

from domain.sip import SipSettings
from domain.vocabulary import CallPhase
from telephony.engine import SipEngine
from telephony.media import AGENT
from telephony.phone import CallEnded, DtmfPressed, IncomingCall as PhoneRings, Registered, SeatPhone

from .lines import IncomingCall
from .session import CallSession, KeyPressed, PhoneStatus

log = logging.getLogger(__name__)


class _PhoneCall:
    """One call from the phone, as a line the session rings with."""

    def __init__(self, line: PhoneLine, caller: str, audio):
        self.line, self.caller, self.audio = line, caller, audio

    def incoming(self) -> IncomingCall:
        # with a headset the agent's voice is on the line too: heard by its own recogniser
        script, seconds = self.line.scripts.get(self.caller, ((), None))
        return IncomingCall(self.caller, self.audio, channels=2, script=script, seconds=seconds,
                            on_answer=lambda: self.line.answered(self.audio),
                            on_hang_up=self.line.phone.hang_up, phone=self.line.phone,
                            agent_channel=AGENT if self.line.agent_audio is not None else None)


class PhoneLine:
    def __init__(self, session: CallSession, sip: SipSettings, extension: str, password: str,
                 agent_audio: Callable[[], object] | None = None,
                 scripts: dict[str, tuple[tuple[str, ...], float | None]] | None = None):
        """`agent_audio` opens what the agent says — the headset (a PyAudioSource of the seat's
        audio_device) — once per answered call; without it the agent's side is silence.
        `scripts` are what known callers will say (the demo's caller: its utterances and the
        call's length), shown as captions when no speech model is installed."""
        self.session, self.sip, self.extension, self.password = session, sip, extension, password
        self.agent_audio = agent_audio
        self.scripts = scripts or {}
        self.engine = self.phone = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Start SIP on this loop and register the seat's extension."""
        self.engine = await SipEngine.acquire(self.sip.transport)
        self.phone = SeatPhone(self.engine, self.sip, self.extension, self.password, self._on_event)
        self.session.emit(PhoneStatus(False, f"分机{self.extension}注册中…"))

    def _later(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_event(self, event) -> None:
        if isinstance(event, Registered):
            self.session.emit(PhoneStatus(event.ok, f"分机{self.extension}{event.reason}"))
        elif isinstance(event, PhoneRings):
            self._later(self._ring(_PhoneCall(self, event.caller, event.line)))
        elif isinstance(event, CallEnded) and not event.answered:
            if self.session.phase == CallPhase.RINGING:  # the caller gave up before the answer
                self._later(self.session.hang_up())
        elif isinstance(event, DtmfPressed):
            self.session.emit(KeyPressed(event.digit))

    def answered(self, audio) -> None:
        """The agent answered: 200 OK, and the headset into the call."""
        self.phone.answer()
        if self.agent_audio is None:
            return
        try:
            source = self.agent_audio()
        except Exception as exc:  # no headset: the agent hears and is not heard — say so
            log.warning("headset could not be opened: %s", exc)
            self.session.emit(PhoneStatus(True, f"分机{self.extension}：耳机无法打开，市民听不到您（{exc}）"))
            return
        threading.Thread(target=self._feed, args=(audio, source), name="headset-to-call", daemon=True).start()

    @staticmethod
    def _feed(audio, source) -> None:
        """The agent's voice into the call until it ends (on the capture's own thread)."""
        try:
            for chunk in source.chunks():
                if audio.ended or not hasattr(chunk, "pcm"):  # the call is over, or the headset was lost
                    break
                audio.say(chunk.mono.astype("<i2").tobytes())
        finally:
            if hasattr(source, "stop"):
                source.stop()

    async def _ring(self, call: _PhoneCall) -> None:
        if not await self.session.ring(call):  # the seat cannot take it (小休, in a call …)
            self.phone.hang_up()
            log.warning("seat %s refused a call from the PBX in %s/%s", self.extension, self.session.state,
                        self.session.phase)

    async def close(self) -> None:
        if self.phone is not None:
            self.phone.close()
        if self.engine is not None:
            await self.engine.release()
