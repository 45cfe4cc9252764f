"""The process's one PJSIP endpoint (pjsua2), driven from the asyncio loop.

PJSIP runs here without SIP threads of its own (`threadCnt = 0`, `mainThreadOnly`): the loop
polls it every few milliseconds, so SIP callbacks — call states, registration, DTMF — run on
the loop's thread and may touch the session directly. There is no sound card: the conference
bridge is clocked by PJSIP's null audio device on its own media thread, where the frames of
our media ports are exchanged (telephony/media.py keeps that side thread-safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys

import pjsua2 as pj

from .errors import TelephonyError

log = logging.getLogger(__name__)

# The codecs a hotline line uses, best first; the rest are disabled so that every call
# negotiates one of these (G.722 wideband where both ends have it, then G.711).
CODECS = ("G722/16000/1", "PCMU/8000/1", "PCMA/8000/1")
CODEC_NAMES = {codec.split("/")[0]: codec for codec in CODECS}  # G722, PCMU, PCMA
TRANSPORTS = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP, "tls": pj.PJSIP_TRANSPORT_TLS}
CLOCK_RATE = 16000  # the bridge's rate: the recogniser's
POLL_SECONDS = 0.005


@contextlib.contextmanager
def _stdout_to_stderr():
    """Keep stdout for the program's own output (e.g. `hotline dial`'s JSON line)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class _ToPythonLogging(pj.LogWriter):
    """PJSIP's log lines go through Python's logging, never straight onto the terminal: a
    console's screen must not be written over (levels: 1 error, 2 warning, more is detail)."""

    LEVELS = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}

    def write(self, entry: pj.LogEntry) -> None:
        log.log(self.LEVELS.get(entry.level, logging.DEBUG), "pjsip: %s", entry.msg.rstrip())


class SipEngine:
    """Create once per process (PJSIP allows one endpoint), `start()` on the loop, `stop()`
    before the loop ends."""

    _instance: SipEngine | None = None

    def __init__(self, transport: str = "udp", port: int = 0, log_level: int = 1,
                 codecs: tuple[str, ...] = CODECS):
        if transport not in TRANSPORTS:
            raise TelephonyError(f"不支持的传输方式：{transport}")
        if not codecs or any(c not in CODECS for c in codecs):
            raise TelephonyError(f"不支持的编码：{', '.join(codecs)}（可用：{', '.join(CODEC_NAMES)}）")
        self.transport, self.port, self.log_level = transport, port, log_level
        self.codecs = codecs  # offered, best first (a caller may offer one: a G.711 trunk)
        self.endpoint: pj.Endpoint | None = None
        self._poller: asyncio.Task | None = None
        self.users = 0  # PhoneLines sharing it (acquire / release)

    @classmethod
    async def acquire(cls, transport: str = "udp") -> SipEngine:
        """The process's engine, started on first use and shared (several seats in one process:
        a training room, a test); `release()` when done with it."""
        if cls._instance is None:
            cls(transport).start()
        cls._instance.users += 1
        return cls._instance

    async def release(self) -> None:
        self.users -= 1
        if self.users <= 0:
            await self.settle(0.3)  # BYEs and un-REGISTERs leave
            await self.stop()

    def start(self) -> SipEngine:
        if SipEngine._instance is not None:
            raise TelephonyError("本进程已有一个SIP终端")
        ep = pj.Endpoint()
        with _stdout_to_stderr():  # PJSIP greets on stdout before its log settings apply
            ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.userAgent = "hotline-12345-console"
        cfg.logConfig.level = self.log_level
        cfg.logConfig.consoleLevel = self.log_level
        self._log_writer = _ToPythonLogging()  # referenced as long as the library runs
        cfg.logConfig.writer = self._log_writer
        cfg.logConfig.decor = pj.PJ_LOG_HAS_TIME | pj.PJ_LOG_HAS_SENDER | pj.PJ_LOG_HAS_MICRO_SEC
        cfg.medConfig.clockRate = CLOCK_RATE
        cfg.medConfig.sndClockRate = CLOCK_RATE
        cfg.medConfig.channelCount = 1
        cfg.medConfig.noVad = True  # silence is audio too: the recording keeps its timing
        cfg.medConfig.ecTailLen = 0  # no echo canceller: there is no speaker in this process
        try:
            ep.libInit(cfg)
            tc = pj.TransportConfig()
            tc.port = self.port
            ep.transportCreate(TRANSPORTS[self.transport], tc)
            ep.libStart()
        except pj.Error as exc:
            ep.libDestroy()
            raise TelephonyError(f"SIP无法启动：{exc.info()}") from None
        ep.audDevManager().setNullDev()
        # PJSIP's digest authentication hashes through its bundled OpenSSL, whose digests exist
        # only once its SSL layer is initialised: asking for the ciphers does that.
        try:
            ep.utilSslGetAvailableCiphers()
        except pj.Error:
            log.warning("PJSIP has no OpenSSL: digest authentication will not work")
        for codec in ep.codecEnum2():
            wanted = codec.codecId in self.codecs
            ep.codecSetPriority(codec.codecId, 255 - self.codecs.index(codec.codecId) if wanted else 0)
        self.endpoint = ep
        SipEngine._instance = self
        self._poller = asyncio.get_running_loop().create_task(self._poll())
        return self

    async def _poll(self) -> None:
        while True:
            try:
                self.endpoint.libHandleEvents(0)
            except Exception:  # a callback's error must not stop the phone
                log.exception("SIP event handling failed")
            await asyncio.sleep(POLL_SECONDS)

    async def settle(self, seconds: float) -> None:
        """Let SIP work for a while (BYEs, un-REGISTER) — e.g. before stopping."""
        await asyncio.sleep(seconds)

    async def stop(self) -> None:
        if self.endpoint is None:
            return
        self.endpoint.hangupAllCalls()
        await self.settle(0.3)
        if self._poller:
            self._poller.cancel()
        # Media ports and calls must not outlive the library: the ones still referenced are let
        # go (their memory goes with the process), the rest are freed now — after the bridge's
        # clock is stopped (no sound device at all), so that the media thread never calls a port
        # that is being freed (media.BRIDGE_PORTS).
        import gc

        from .media import BRIDGE_PORTS, FREE_PORT_PAIRS, LIVE_CALLS, LIVE_PORTS

        try:
            self.endpoint.audDevManager().setNoDev()
        except pj.Error as exc:
            log.warning("could not stop the media clock before freeing ports: %s", exc.info())
        BRIDGE_PORTS.clear()
        FREE_PORT_PAIRS.clear()
        gc.collect()
        for wrapped in [*LIVE_PORTS, *LIVE_CALLS]:
            wrapped.thisown = False
        self.endpoint.libDestroy()
        self.endpoint = None
        SipEngine._instance = None
