"""Audio in and out of a SIP call without a sound card: PJSIP media ports of our own.

`LineAudio` is a phone line's audio as the console needs it: what the caller says (the call's
received audio) and what the agent says (sent into the call), paired frame by frame as stereo
chunks — caller left, agent right — for the recogniser (which listens to the caller) and the
recording. Frames are exchanged on PJSIP's media clock thread; the recogniser reads them on
its own thread through `chunks()`, like any other source of speech/. A line's two ports live
as long as its phone (the bridge has a few hundred slots; a port per call would leak them).
"""

from __future__ import annotations

import collections
import queue
import weakref
from typing import Callable, Iterator

import numpy as np
import pjsua2 as pj

from speech.audio import MODEL_RATE, Chunk

FRAME_SECONDS = 0.02
FRAME_SAMPLES = int(MODEL_RATE * FRAME_SECONDS)
SILENCE = bytes(FRAME_SAMPLES * 2)
CALLER, AGENT = 0, 1  # channels of the stereo chunks and the recording


def audio_format() -> pj.MediaFormatAudio:
    fmt = pj.MediaFormatAudio()
    fmt.type = pj.PJMEDIA_TYPE_AUDIO
    fmt.clockRate = MODEL_RATE
    fmt.channelCount = 1
    fmt.bitsPerSample = 16
    fmt.frameTimeUsec = int(FRAME_SECONDS * 1_000_000)
    return fmt


# PJSIP objects wrapped in Python: engine.stop() lets go of any still alive, so that their
# destructors never run after the library is gone.
LIVE_PORTS: weakref.WeakSet = weakref.WeakSet()
LIVE_CALLS: weakref.WeakSet = weakref.WeakSet()
# ... and no port is freed before then: a port freed while the bridge's clock runs can be
# called by the media thread half-destroyed (a segfault, reproduced by dropping lines in a
# loop). Every port is held here until engine.stop() has stopped the clock; a closed line's
# two ports wait in FREE_PORT_PAIRS for the next line, so a process that opens and closes
# lines does not run the bridge out of slots.
BRIDGE_PORTS: list = []
FREE_PORT_PAIRS: list = []


class _Port(pj.AudioMediaPort):
    """A bridge port whose frames go to / come from Python callables."""

    # Class-level defaults: PJSIP's media thread may call a port whose instance dict is
    # already cleared (interpreter shutdown); a missing attribute there aborts the process.
    _received: Callable[[bytes], None] | None = None
    _wanted: Callable[[], bytes] | None = None

    def __init__(self, name: str, received: Callable[[bytes], None] | None = None,
                 wanted: Callable[[], bytes] | None = None):
        super().__init__()
        self._received, self._wanted = received, wanted
        self.createPort(name, audio_format())
        LIVE_PORTS.add(self)
        BRIDGE_PORTS.append(self)

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:
        frame.type = pj.PJMEDIA_TYPE_AUDIO
        data = self._wanted() if self._wanted else SILENCE
        frame.buf = pj.ByteVector(data)
        frame.size = len(data)

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        if self._received and frame.type == pj.PJMEDIA_TYPE_AUDIO and frame.size:
            self._received(bytes(frame.buf))


class LineAudio:
    """A line's two voices, call after call (`begin` each). `say` feeds what the agent says
    (a headset, a test's WAV); without it the agent's side is silence."""

    def __init__(self, name: str):
        self._agent = collections.deque(maxlen=50)  # 1 s: a stalled headset must not build up delay
        if FREE_PORT_PAIRS:
            self.caller_port, self.agent_port = FREE_PORT_PAIRS.pop()
        else:
            self.caller_port, self.agent_port = _Port(f"{name}-caller"), _Port(f"{name}-agent")
        self.begin()
        self.ended = True  # until a call begins
        self.caller_port._received = self._caller_frame
        self.agent_port._wanted = self._agent_frame

    def close(self) -> None:
        """The line is not used again: its ports go back for the next line (see BRIDGE_PORTS)."""
        self.end()
        if self.caller_port is None:
            return
        self.caller_port._received = None
        self.agent_port._wanted = None
        FREE_PORT_PAIRS.append((self.caller_port, self.agent_port))
        self.caller_port = self.agent_port = None

    def begin(self) -> None:
        """A new call on the line."""
        self._queue: queue.Queue[Chunk | None] = queue.Queue()
        self._agent.clear()
        self._last_sent = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        self.frames_received = 0
        self.ended = False

    def connect(self, call_audio: pj.AudioMedia) -> None:
        """Route the call: the caller's voice to us, the agent's into the call (not once the
        line is closed: its ports serve another line)."""
        if self.caller_port is None:
            return
        call_audio.startTransmit(self.caller_port)
        self.agent_port.startTransmit(call_audio)

    def say(self, pcm16: bytes) -> None:
        """Queue the agent's audio (16 kHz mono int16) to be sent into the call."""
        for i in range(0, len(pcm16) - len(pcm16) % 2, FRAME_SAMPLES * 2):
            piece = pcm16[i:i + FRAME_SAMPLES * 2]
            self._agent.append(piece + bytes(FRAME_SAMPLES * 2 - len(piece)))

    def _agent_frame(self) -> bytes:
        data = self._agent.popleft() if self._agent else SILENCE
        self._last_sent = np.frombuffer(data, dtype=np.int16)
        return data

    def _caller_frame(self, data: bytes) -> None:
        if self.ended:
            return
        caller = np.frombuffer(data[:FRAME_SAMPLES * 2], dtype=np.int16)
        if len(caller) < FRAME_SAMPLES:
            caller = np.pad(caller, (0, FRAME_SAMPLES - len(caller)))
        start = self.frames_received * FRAME_SECONDS
        self.frames_received += 1
        self._queue.put(Chunk(np.stack([caller, self._last_sent], axis=1), start, listen=CALLER))

    def end(self) -> None:
        """The call is over: `chunks()` ends after what was received."""
        if not self.ended:
            self.ended = True
            self._queue.put(None)

    # -- a source of speech/ (read on the recogniser's thread) -----------------------------------
    channels = 2

    def chunks(self) -> Iterator[Chunk]:
        """The call's audio as it arrives; a recogniser that fell behind gets what has piled
        up in one chunk (fewer, larger calls catch up faster)."""
        while True:
            first = self._queue.get()
            if first is None:
                return
            pending, done = [first], False
            while not done:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    done = True
                else:
                    pending.append(more)
            yield pending[0] if len(pending) == 1 else Chunk(np.concatenate([c.pcm for c in pending]),
                                                             pending[0].start, listen=CALLER)
            if done:
                return

    def stop(self) -> None:
        self.end()


def negotiated_codec(call: pj.Call, media_index: int | None) -> str:
    """The audio codec a call's stream uses ("" before media)."""
    if media_index is None:
        return ""
    try:
        return call.getStreamInfo(media_index).codecName
    except pj.Error:
        return ""
