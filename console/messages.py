"""Messages from the call's recognition thread to the console (small dataclasses)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from textual.message import Message


@dataclass
class TranscriptPartial(Message):
    text: str
    at: float  # seconds into the call
    posted: float = field(default_factory=time.monotonic)


@dataclass
class TranscriptFinal(Message):
    text: str
    start: float
    end: float
    posted: float = field(default_factory=time.monotonic)


@dataclass
class CallEnded(Message):
    seconds: float
    reason: str
