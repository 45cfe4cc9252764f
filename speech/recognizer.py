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


@dataclass(frozen=True)
class Final:
    text: str
    start: float
    end: float
    words: tuple[Word, ...]
    audio: np.ndarray = field(repr=False, compare=False)  # the utterance, for a second pass
    wall: float = 0.0


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
    back and the next call takes it.  Only when none is free is a new one used: one is always
    kept warmed up (in a thread) for that case.
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
        def warm():
            recognizer = new_recognizer(self.model)
            warm_up(recognizer)
            with self._lock:
                self._ready.append(recognizer)
        self._warming = threading.Thread(target=warm, name="vosk-warm-up", daemon=True)
        self._warming.start()

    def take(self):
        with self._lock:
            if self._returned:
                return self._returned.pop()
        if self._warming:
            self._warming.join()
        with self._lock:
            recognizer = self._ready.pop() if self._ready else None
        self.prepare()
        return recognizer or new_recognizer(self.model)

    def give_back(self, recognizer) -> None:
        """Return the recogniser of a finished call (CallTranscriber has reset it)."""
        with self._lock:
            if len(self._returned) < self.keep and recognizer not in self._returned:
                self._returned.append(recognizer)


def _final(result: dict, offset: float, audio: np.ndarray, heard: float) -> Final:
    words = tuple(Word(w["word"], round(w["start"], 2), round(w["end"], 2), round(w.get("conf", 1.0), 3))
                  for w in result.get("result", []))
    start = words[0].start if words else offset
    end = words[-1].end if words else heard
    return Final(result.get("text", "").strip(), start, end, words, audio, time.monotonic())


class CallTranscriber:
    """Transcribes one call from a source (WavSource, PyAudioSource) in a thread."""

    def __init__(self, recognizer, source, on_event: Callable[[Event], None],
                 on_audio: Callable[[Chunk], None] | None = None, partial_every: float = 0.1):
        self.recognizer = recognizer
        self.source = source
        self.on_event = on_event
        self.on_audio = on_audio  # e.g. the call recorder
        self.partial_every = partial_every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="call-transcriber", daemon=True)
        self.error: Exception | None = None

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

    def _run(self) -> None:
        heard = 0.0
        utterance: list[np.ndarray] = []
        utterance_start = 0.0
        last_partial = ""
        last_partial_at = -1.0
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
                mono = item.mono
                utterance.append(mono)
                heard = item.start + item.seconds
                if self.recognizer.AcceptWaveform(mono.tobytes()):
                    result = json.loads(self.recognizer.Result())
                    if result.get("text", "").strip():
                        self.on_event(_final(result, utterance_start, np.concatenate(utterance), heard))
                    utterance, utterance_start, last_partial = [], heard, ""
                elif heard - last_partial_at >= self.partial_every:
                    text = json.loads(self.recognizer.PartialResult()).get("partial", "").strip()
                    last_partial_at = heard
                    if text and text != last_partial:
                        last_partial = text
                        self.on_event(Partial(text, round(heard, 2), time.monotonic()))
            result = json.loads(self.recognizer.FinalResult())
            if result.get("text", "").strip():
                audio = np.concatenate(utterance) if utterance else np.zeros(0, dtype=np.int16)
                self.on_event(_final(result, utterance_start, audio, heard))
        except AudioError as exc:
            self.error = exc
            reason = str(exc)
        finally:
            self.recognizer.Reset()
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
