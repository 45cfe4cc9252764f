"""Call recording to WAV (16-bit; stereo when caller and agent come on separate channels)."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import wave
from pathlib import Path

from common.paths import private_dirs

from .audio import MODEL_RATE, Chunk


class CallRecorder:
    """Appends chunks as they arrive; the file is a valid WAV after every `close`.

    A recording is personal data: the file is readable by its owner only (0600) and the
    folders made for it are 0700; folders that already exist are left as they are."""

    def __init__(self, path: Path, channels: int = 1, rate: int = MODEL_RATE):
        self.path = Path(path)
        private_dirs(self.path.parent)
        self.channels, self.rate = channels, rate
        self._file = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        self._wav = wave.open(self._file, "wb")
        self._wav.setnchannels(channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)
        self._frames = 0
        self._lock = threading.Lock()

    def __call__(self, chunk: Chunk) -> None:
        pcm = chunk.pcm if self.channels > 1 else chunk.pcm[:, :1]
        with self._lock:
            if self._wav is not None:
                self._wav.writeframes(pcm.astype("<i2").tobytes())
                self._frames += len(pcm)

    @property
    def seconds(self) -> float:
        return self._frames / self.rate

    def close(self) -> float:
        """Finish the file (header with the final length); return its duration in seconds."""
        with self._lock:
            if self._wav is not None:
                self._wav.close()
                self._file.close()
                self._wav = None
        return round(self.seconds, 2)


def recording_path(folder: Path, seat_id: int, when: dt.datetime, caller: str) -> Path:
    """<folder>/YYYY-MM-DD/seat042-HHMMSS-<last 4 digits>.wav"""
    tail = "".join(ch for ch in caller if ch.isdigit())[-4:] or "anon"
    return Path(folder) / when.strftime("%Y-%m-%d") / f"seat{seat_id:03d}-{when.strftime('%H%M%S')}-{tail}.wav"


def purge_recordings(folder: Path, keep_days: int, now: float | None = None) -> list[Path]:
    """Delete recordings older than `keep_days` (the retention setting); return them."""
    if keep_days < 1:
        raise ValueError("retention must be at least one day")
    cutoff = (now or time.time()) - keep_days * 86400
    removed = []
    for path in sorted(Path(folder).rglob("*.wav")):
        if path.stat().st_mtime < cutoff:
            path.unlink()
            removed.append(path)
    for day in sorted(Path(folder).glob("*"), reverse=True):
        if day.is_dir() and not any(day.iterdir()):
            day.rmdir()
    return removed
