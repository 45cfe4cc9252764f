"""A seat's SIP phone: registers the seat's extension, rings on INVITE with the caller's number,
answers, hangs up, holds, resumes and transfers — and tells its owner what happened through
events, on the loop's thread (engine.py).

The caller's number comes from P-Asserted-Identity when the network vouches for it, else
From; "anonymous" and the like are a hidden number (号码未显示), which is allowed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Callable

import pjsua2 as pj

from domain.sip import SipSettings

from .engine import SipEngine
from .errors import TelephonyError
from .media import LIVE_CALLS, LineAudio, negotiated_codec

log = logging.getLogger(__name__)
HIDDEN = ""  # the number of a caller who withheld it
RTP_TIMEOUT = 10.0  # seconds without the caller's audio before the call is taken for lost
_USER = re.compile(r"<?(?:sips?|tel):([^@;>]+)")


@dataclass(frozen=True)
class Registered:
    ok: bool
    code: int
    reason: str  # for the seat bar, in Chinese


@dataclass(frozen=True)
class IncomingCall:
    caller: str  # digits, or HIDDEN
    line: LineAudio


@dataclass(frozen=True)
class CallConnected:
    codec: str = ""  # what the call's audio negotiated: G722, PCMU, PCMA


@dataclass(frozen=True)
class CallEnded:
    answered: bool
    by: str  # "caller" | "agent" | "network"
    code: int
    reason: str


@dataclass(frozen=True)
class DtmfPressed:
    digit: str


PhoneEvent = Registered | IncomingCall | CallConnected | CallEnded | DtmfPressed


def caller_number(whole_message: str, remote_uri: str) -> str:
    """P-Asserted-Identity's user, else From's (the remote URI); HIDDEN when withheld."""
    for line in whole_message.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() in ("p-asserted-identity", "pai"):
            found = _USER.search(value)
            if found:
                return _digits_or_hidden(found[1])
    found = _USER.search(remote_uri)
    return _digits_or_hidden(found[1]) if found else HIDDEN


def _digits_or_hidden(user: str) -> str:
    user = user.strip()
    if user.startswith("+86"):
        user = user[3:]
    return user if user.isdigit() else HIDDEN


def _registration_reason(code: int, reason: str) -> str:
    if code // 100 == 2:
        return "已注册"
    if code in (401, 403, 407):
        return f"注册被拒：密码不对（{code}）"
    if code in (408, 503) or code >= 700:
        return f"注册失败：交换机无响应（{code}），自动重试"
    return f"注册失败：{code} {reason}，自动重试"


class _Call(pj.Call):
    def __init__(self, phone: SeatPhone, account: pj.Account, call_id: int):
        super().__init__(account, call_id)
        LIVE_CALLS.add(self)
        self.phone = phone
        self.confirmed = False
        self.by = "caller"  # who ends it, unless the seat does
        self.media_index: int | None = None
        self.held = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.confirmed = True
            self.phone._emit(CallConnected(negotiated_codec(self, self.media_index)))
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.phone._ended(self, info.lastStatusCode, info.lastReason)

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.media_index = index
                self.phone.line.connect(self.getAudioMedia(index))

    def packets_received(self) -> int | None:
        """RTP packets received so far on the call's audio (None before media)."""
        if self.media_index is None:
            return None
        try:
            return self.getStreamStat(self.media_index).rtcp.rxStat.pkt
        except pj.Error:
            return None

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        self.phone._emit(DtmfPressed(prm.digit))


class _Account(pj.Account):
    def __init__(self, phone: SeatPhone):
        super().__init__()
        self.phone = phone

    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        self.phone._emit(Registered(prm.code // 100 == 2 and prm.expiration > 0, prm.code,
                                    _registration_reason(prm.code, prm.reason)))

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        self.phone._incoming(_Call(self.phone, self, prm.callId), prm.rdata.wholeMsg)


class SeatPhone:
    """The SIP phone of one seat. `on_event` receives PhoneEvents on the loop's thread."""

    def __init__(self, engine: SipEngine, settings: SipSettings, extension: str, password: str,
                 on_event: Callable[[PhoneEvent], None], register: bool = True,
                 rtp_timeout: float = RTP_TIMEOUT):
        self.engine, self.settings, self.extension = engine, settings, extension
        self.on_event = on_event
        self.call: _Call | None = None
        self._finished: list[_Call] = []
        self.line = LineAudio(f"seat{extension}")
        config = pj.AccountConfig()
        config.idUri = settings.seat_uri(extension)
        if register:
            config.regConfig.registrarUri = settings.registrar_uri()
            config.regConfig.timeoutSec = settings.expiry
            config.regConfig.retryIntervalSec = 10  # a registrar that was down: try again soon
            credential = pj.AuthCredInfo("digest", "*", extension, 0, password)
            credential.algoType = pj.PJSIP_AUTH_ALGORITHM_MD5  # what registrars ask; unset, PJSIP 2.15 refuses
            config.sipConfig.authCreds.append(credential)
            config.sipConfig.proxies.append(f"sip:{settings.registrar_host}:{settings.registrar_port};lr")
        config.mediaConfig.transportConfig.port = 0  # any free RTP port: many seats per host
        self.account = _Account(self)
        try:
            self.account.create(config)
        except pj.Error as exc:
            raise TelephonyError(f"分机{extension}无法创建：{exc.info()}") from None
        self.rtp_timeout = rtp_timeout
        self._watch = asyncio.get_running_loop().create_task(self._watch_rtp())

    async def _watch_rtp(self) -> None:
        """A caller's audio that stops (network loss, a dead trunk, no BYE) ends the call after
        `rtp_timeout` seconds — with what was captured kept, like any other end."""
        last, quiet_since = None, time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            call = self.call
            if call is None or not call.confirmed or call.held:
                last, quiet_since = None, time.monotonic()
                continue
            received = call.packets_received()
            if received != last:
                last, quiet_since = received, time.monotonic()
            elif time.monotonic() - quiet_since > self.rtp_timeout:
                log.warning("no RTP from the caller for %.0f s: ending the call", self.rtp_timeout)
                self.hang_up(by="network")
                # the BYE may wait long for a peer that is gone: the call is over for the seat now
                self._ended(call, 408, f"{self.rtp_timeout:.0f}秒未收到对方语音（网络中断）")
                last, quiet_since = None, time.monotonic()

    def _emit(self, event: PhoneEvent) -> None:
        try:
            self.on_event(event)
        except Exception:
            log.exception("phone event handler failed on %s", event)

    def _incoming(self, call: _Call, whole_message: str) -> None:
        if self.call is not None:  # one call at a time: the ACD should not have sent it
            busy = pj.CallOpParam()
            busy.statusCode = 486
            call.hangup(busy)
            return
        self.call = call
        self.line.begin()
        ringing = pj.CallOpParam()
        ringing.statusCode = 180
        call.answer(ringing)
        self._emit(IncomingCall(caller_number(whole_message, call.getInfo().remoteUri), self.line))

    def _ended(self, call: _Call, code: int, reason: str) -> None:
        if call is not self.call:
            return  # already ended for the seat (lost on the network), PJSIP only now agrees
        self._finished.append(call)  # a call object outlives its call in PJSIP, never the reverse
        self.call = None
        self.line.end()
        self._emit(CallEnded(call.confirmed, call.by, code, reason))

    # -- what the agent does ---------------------------------------------------------------------
    def answer(self) -> None:
        if self.call is None:
            raise TelephonyError("没有来电可接")
        ok = pj.CallOpParam()
        ok.statusCode = 200
        self.call.answer(ok)

    def hang_up(self, by: str = "agent") -> None:
        """End the call (BYE once answered, 603 while ringing); `by` says who ended it
        ("agent", or "network" when the line went dead)."""
        if self.call is None:
            return
        self.call.by = by
        op = pj.CallOpParam()
        if not self.call.confirmed:
            op.statusCode = 603  # declined at the seat
        self.call.hangup(op)

    def hold(self) -> None:
        if self.call is not None and self.call.confirmed:
            self.call.held = True  # no audio expected meanwhile
            self.call.setHold(pj.CallOpParam(True))

    def resume(self) -> None:
        if self.call is not None and self.call.confirmed:
            op = pj.CallOpParam(True)
            op.opt.flag = pj.PJSUA_CALL_UNHOLD
            self.call.reinvite(op)
            self.call.held = False

    def transfer(self, number: str) -> None:
        """Blind transfer (REFER) to a number on the same domain, e.g. a unit's duty phone."""
        if self.call is None or not self.call.confirmed:
            raise TelephonyError("通话接通后才能转接")
        if not re.fullmatch(r"\d{3,20}", number):
            raise TelephonyError(f"转接号码不对：{number}")
        self.call.by = "agent"
        self.call.xfer(f"sip:{number}@{self.settings.domain}", pj.CallOpParam(True))

    def close(self) -> None:
        """Free the account: its deletion sends the un-REGISTER (the engine sends it while it
        runs) — a second one of our own would find the first in flight (PJSIP_EBUSY)."""
        self._watch.cancel()
        self._finished.clear()
        if self.call is not None:
            self.hang_up("agent")
        self.account.shutdown()
        self.line.close()
