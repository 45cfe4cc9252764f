"""Streaming recognition of one call, off the UI loop.

One Vosk `Model` per process (speech.model.load_model); one `KaldiRecognizer` per call,
reused across the call's utterances.  A new recogniser decodes slowly until its part of the
graph is composed, so `RecognizerPool` hands finished calls' recognisers to the next calls
and keeps a silence-warmed spare.  `CallTranscriber` reads a source
in a thread and reports `Partial` and `Final` events (times from the start of the call,
word confidences) through a callback, e.g. `loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from .audio import MODEL_RATE, AudioError, Chunk, DeviceLost


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Partial:
    text: str
    audio_end: float  # seconds of call audio heard when this was produced
    wall: float  # time.monotonic() when it was produced
    speaker: str = ""  # whose channel ("" : the line's one voice)


@dataclass(frozen=True)
class Final:
    text: str
    start: float
    end: float
    words: tuple[Word, ...]
    audio: np.ndarray = field(repr=False, compare=False)  # the utterance, for a second pass
    wall: float = 0.0
    speaker: str = ""


@dataclass(frozen=True)
class Ended:
    seconds: float  # audio heard in all
    reason: str  # "source ended", "stopped", or the device error
    lost_device: bool = False


Event = Partial | Final | Ended


def new_recognizer(model, rate: int = MODEL_RATE, grammar: Iterable[str] | None = None):
    import vosk

    if grammar is None:
        recognizer = vosk.KaldiRecognizer(model, rate)
    else:
        recognizer = vosk.KaldiRecognizer(model, rate, json.dumps(list(grammar), ensure_ascii=False))
    recognizer.SetWords(True)
    recognizer.SetPartialWords(False)
    return recognizer


def warm_up(recognizer, seconds: float = 1.0) -> None:
    """Decode a little silence so that the call's first words are not slow."""
    recognizer.AcceptWaveform(np.zeros(int(MODEL_RATE * seconds), dtype=np.int16).tobytes())
    recognizer.FinalResult()
    recognizer.Reset()


class RecognizerPool:
    """Recognisers for one console's calls.

    A recogniser that has decoded calls is several times faster than a new one (its share of
    the decoding graph is composed lazily and cached), so a finished call gives its recogniser
    back and the next call takes it.  Only when none is free is a new one used: `keep` are
    always kept warmed up (in a thread) for that case — two on a phone seat, whose calls are
    heard on both sides.
    """

    def __init__(self, model, keep: int = 1):  # a seat takes one call at a time
        self.model = model
        self.keep = keep
        self._ready: list = []  # warmed on silence
        self._returned: list = []  # warmed by real calls, preferred
        self._lock = threading.Lock()
        self._warming: threading.Thread | None = None
        self.prepare()

    def prepare(self) -> None:
        """Warm recognisers in a thread until `keep` are ready."""
        def warm():
            while True:
                with self._lock:
                    if len(self._ready) >= self.keep:
                        return
                recognizer = new_recognizer(self.model)
                warm_up(recognizer)
                with self._lock:
                    self._ready.append(recognizer)
        if self._warming is None or not self._warming.is_alive():
            self._warming = threading.Thread(target=warm, name="vosk-warm-up", daemon=True)
            self._warming.start()

    def take(self):
        with self._lock:
            if self._returned:
                return self._returned.pop()
            recognizer = self._ready.pop() if self._ready else None
        if recognizer is None and self._warming:
            self._warming.join()  # the first call of the session: the warm-up is nearly done
            with self._lock:
                recognizer = self._ready.pop() if self._ready else None
        self.prepare()
        return recognizer or new_recognizer(self.model)

    def give_back(self, *recognizers) -> None:
        """Return the recognisers of a finished call (CallTranscriber has reset them)."""
        with self._lock:
            for recognizer in recognizers:
                if len(self._returned) < self.keep and recognizer not in self._returned:
                    self._returned.append(recognizer)


def _final(result: dict, offset: float, audio: np.ndarray, heard: float, speaker: str) -> Final:
    words = tuple(Word(w["word"], round(w["start"], 2), round(w["end"], 2), round(w.get("conf", 1.0), 3))
                  for w in result.get("result", []))
    start = words[0].start if words else offset
    end = words[-1].end if words else heard
    return Final(result.get("text", "").strip(), start, end, words, audio, time.monotonic(), speaker)


class _Voice:
    """One side of a call as it is decoded: its recogniser and its utterance so far."""

    def __init__(self, recognizer, speaker: str, on_event: Callable[[Event], None], partial_every: float):
        self.recognizer, self.speaker, self.on_event = recognizer, speaker, on_event
        self.partial_every = partial_every
        self.utterance: list[np.ndarray] = []
        self.utterance_start = 0.0
        self.last_partial = ""
        self.last_partial_at = -1.0

    def hear(self, pcm: np.ndarray, heard: float) -> None:
        self.utterance.append(pcm)
        if self.recognizer.AcceptWaveform(pcm.tobytes()):
            result = json.loads(self.recognizer.Result())
            if result.get("text", "").strip():
                self.on_event(_final(result, self.utterance_start, np.concatenate(self.utterance), heard,
                                     self.speaker))
            self.utterance, self.utterance_start, self.last_partial = [], heard, ""
        elif heard - self.last_partial_at >= self.partial_every:
            text = json.loads(self.recognizer.PartialResult()).get("partial", "").strip()
            self.last_partial_at = heard
            if text and text != self.last_partial:
                self.last_partial = text
                self.on_event(Partial(text, round(heard, 2), time.monotonic(), self.speaker))

    def finish(self, heard: float) -> None:
        result = json.loads(self.recognizer.FinalResult())
        if result.get("text", "").strip():
            audio = np.concatenate(self.utterance) if self.utterance else np.zeros(0, dtype=np.int16)
            self.on_event(_final(result, self.utterance_start, audio, heard, self.speaker))


RECOGNITION_NICENESS = 10


def _yield_to_audio() -> None:
    """Lower this thread's priority (Linux: niceness is per thread): decoding can run a little
    late and catch up, but a call's media clock and its SIP signalling on the same machine must
    not wait behind it — a starved media clock drops the caller's frames."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), RECOGNITION_NICENESS)
    except (AttributeError, OSError):
        pass  # not Linux, or not allowed: run at the process's priority


class CallTranscriber:
    """Transcribes one call from a source (WavSource, PyAudioSource, a phone line) in a thread.

    With `agent` — (a second recogniser, the channel of the agent's voice, the agent's tag) —
    a stereo call is heard on both sides, each by its own recogniser and each event tagged with
    whose voice it is; the caller is the chunk's `listen` channel (else the other one). Both
    sides are decoded on this one thread, so their events come in the order of the call.
    """

    def __init__(self, recognizer, source, on_event: Callable[[Event], None],
                 on_audio: Callable[[Chunk], None] | None = None, partial_every: float = 0.1,
                 speaker: str = "", agent: tuple[object, int, str] | None = None):
        self.agent_channel = agent[1] if agent else None
        self.source = source
        self.on_event = on_event
        self.on_audio = on_audio  # e.g. the call recorder
        self._voices = [_Voice(recognizer, speaker, on_event, partial_every)]
        if agent:
            self._voices.append(_Voice(agent[0], agent[2], on_event, partial_every))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="call-transcriber", daemon=True)
        self.error: Exception | None = None

    @property
    def recognizer(self):
        """The caller's recogniser."""
        return self._voices[0].recognizer

    @property
    def recognizers(self) -> list:
        return [voice.recognizer for voice in self._voices]

    def start(self) -> "CallTranscriber":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if hasattr(self.source, "stop"):
            self.source.stop()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _sides(self, item: Chunk) -> list[np.ndarray]:
        if self.agent_channel is None or item.pcm.shape[1] < 2:
            return [item.mono]
        caller = item.listen if item.listen is not None else 1 - self.agent_channel
        return [np.ascontiguousarray(item.pcm[:, caller]), np.ascontiguousarray(item.pcm[:, self.agent_channel])]

    def _run(self) -> None:
        _yield_to_audio()
        heard = 0.0
        reason, lost = "source ended", False
        try:
            for item in self.source.chunks():
                if isinstance(item, DeviceLost):
                    reason, lost = f"capture device lost: {item.reason}", True
                    break
                if self._stop.is_set():
                    reason = "stopped"
                    break
                if self.on_audio:
                    self.on_audio(item)
                heard = item.start + item.seconds
                for voice, pcm in zip(self._voices, self._sides(item)):
                    voice.hear(pcm, heard)
            for voice in self._voices:
                voice.finish(heard)
        except AudioError as exc:
            self.error = exc
            reason = str(exc)
        finally:
            for voice in self._voices:
                voice.recognizer.Reset()
            self.on_event(Ended(round(heard, 2), reason, lost))


def transcribe(model, source) -> list[Event]:
    """All events of a source, synchronously (files, tests, evaluation)."""
    events: list[Event] = []
    transcriber = CallTranscriber(new_recognizer(model), source, events.append)
    transcriber.start()
    transcriber.join()
    if transcriber.error:
        raise transcriber.error
    return events
