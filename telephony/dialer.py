"""A citizen's phone for tests, the demo and the benchmark (`hotline dial`): calls a number
through the PBX, plays a recording into the call once answered, and hangs up at its end — or
notes that the other side hung up first, or that nobody answered."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import pjsua2 as pj

from speech.audio import WavSource

from .engine import SipEngine
from .errors import TelephonyError
from .media import FRAME_SAMPLES, LIVE_CALLS, SILENCE, _Port, negotiated_codec


def wav_pcm(path: Path) -> bytes:
    """Any WAV speech/ reads (rates, widths, G.711, stereo), as 16 kHz mono int16."""
    return b"".join(chunk.mono.astype("<i2").tobytes() for chunk in WavSource(Path(path)).chunks())


@dataclass
class DialResult:
    answered: bool
    extension: str  # who answered (the seat's extension, from the 200 OK's Contact), "" if nobody
    setup_ms: float | None  # INVITE sent → call confirmed
    seconds: float  # talking time
    ended_by: str  # "caller" (the recording ended), "callee", "unanswered"
    code: int
    transferred_to: str = ""  # the extension the seat transferred the call to, if it did
    codec: str = ""  # the audio codec the call negotiated

    def as_json(self) -> dict:
        return {"answered": self.answered, "extension": self.extension,
                "setup_ms": round(self.setup_ms, 1) if self.setup_ms is not None else None,
                "seconds": round(self.seconds, 2), "ended_by": self.ended_by, "code": self.code,
                "transferred_to": self.transferred_to, "codec": self.codec}


class _DialCall(pj.Call):
    def __init__(self, account: pj.Account, dial: Dial, transferred: bool = False):
        super().__init__(account)
        LIVE_CALLS.add(self)
        self.dial, self.transferred = dial, transferred

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.dial._confirmed(info, self.transferred)
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.dial._disconnected(info, self)

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        """The seat transferred us (REFER): the caller goes on talking to the new party."""
        call = _DialCall(self.dial.account, self.dial, transferred=True)
        self.dial.calls.append(call)
        prm.newCall = call

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.dial.port.startTransmit(self.getAudioMedia(index))
                if not self.transferred:
                    self.dial.codec = negotiated_codec(self, index)


class Dial:
    """One call from `caller` to `target` (a SIP URI) playing `pcm` (16 kHz mono int16)."""

    def __init__(self, engine: SipEngine, caller: str, domain: str, pcm: bytes, proxy: str | None = None):
        self.engine, self.pcm = engine, pcm
        self._offset = 0
        self._loop = asyncio.get_running_loop()
        self._done = self._loop.create_future()
        self.started = self.confirmed_at = self.ended_at = None
        self.extension, self.hung_up_by_us = "", False
        account_config = pj.AccountConfig()
        account_config.idUri = f"sip:{caller}@{domain}" if caller else f"sip:anonymous@{domain}"
        account_config.mediaConfig.transportConfig.port = 0
        if proxy:  # every request through the PBX, as a carrier trunk delivers (a transfer's INVITE too)
            account_config.sipConfig.proxies.append(f"sip:{proxy};lr")
        self.account = pj.Account()
        self.account.create(account_config)
        self.port = _Port("dialer", wanted=self._next_frame)
        self.call: _DialCall | None = None
        self.calls: list[_DialCall] = []  # this one and any it was transferred to
        self.transferred_to = ""
        self.codec = ""

    def _next_frame(self) -> bytes:
        if self.confirmed_at is None:
            return SILENCE
        piece = self.pcm[self._offset:self._offset + FRAME_SAMPLES * 2]
        self._offset += FRAME_SAMPLES * 2
        if not piece:
            if not self.hung_up_by_us:  # the recording is over: hang up (after this frame)
                self.hung_up_by_us = True
                self._loop.call_soon_threadsafe(self._hang_up)
            return SILENCE
        return piece + bytes(FRAME_SAMPLES * 2 - len(piece))

    def _hang_up(self) -> None:
        for call in list(self.calls):
            try:
                call.hangup(pj.CallOpParam())
            except pj.Error:
                pass  # already ending

    def _confirmed(self, info, transferred: bool) -> None:
        contact = info.remoteContact or ""
        found = contact.split("sip:", 1)[-1].split("@", 1)[0] if "sip:" in contact else ""
        if transferred:
            self.transferred_to = found if found.isdigit() else "?"
            return
        self.confirmed_at = time.monotonic()
        self.extension = found if found.isdigit() else ""

    def _disconnected(self, info, call: _DialCall) -> None:
        """Done when the last of the calls (the first, or the one it was transferred to) ends."""
        if call in self.calls:
            self.calls.remove(call)
        if call is self.call and not call.transferred:
            self.first_code = info.lastStatusCode
            self.ended_at = time.monotonic()
        if not self.calls and not self._done.done():
            self._loop.call_soon(self._done.set_result, getattr(self, "first_code", info.lastStatusCode))

    async def run(self, target: str, answer_timeout: float) -> DialResult:
        self.call = _DialCall(self.account, self)
        self.calls.append(self.call)
        self.started = time.monotonic()
        try:
            self.call.makeCall(target, pj.CallOpParam(True))
        except pj.Error as exc:
            raise TelephonyError(f"无法呼叫 {target}：{exc.info()}") from None
        try:
            code = await asyncio.wait_for(asyncio.shield(self._done), answer_timeout)
        except asyncio.TimeoutError:
            if self.confirmed_at is None:  # nobody answered in time: give up (CANCEL)
                self._hang_up()
            code = await asyncio.wait_for(self._done, max(answer_timeout, len(self.pcm) / 32000 + 30))
        answered = self.confirmed_at is not None
        return DialResult(answered, self.extension,
                          (self.confirmed_at - self.started) * 1000 if answered else None,
                          (self.ended_at - self.confirmed_at) if answered else 0.0,
                          ("caller" if self.hung_up_by_us else "callee") if answered else "unanswered", code,
                          self.transferred_to, self.codec)

    def close(self) -> None:
        self.call, self.calls, self.port = None, [], None  # the port is freed while the library runs
        self.account.shutdown()


async def dial(engine: SipEngine, target: str, pcm: bytes, caller: str, domain: str,
               answer_timeout: float = 60.0, proxy: str | None = None) -> DialResult:
    """Call `target` (through `proxy`, host:port, when given), play `pcm` once answered, hang
    up at its end; how it went."""
    call = Dial(engine, caller, domain, pcm, proxy)
    try:
        return await call.run(target, answer_timeout)
    finally:
        call.close()
