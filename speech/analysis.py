"""Measurements on a recording for quality inspection: silence and talk-over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .audio import MODEL_RATE

FRAME_SECONDS = 0.1
SILENCE_DBFS = -45.0


@dataclass(frozen=True)
class AudioStats:
    seconds: float
    silence_ratio: float  # share of 100 ms frames below SILENCE_DBFS (both channels)
    longest_silence: tuple[float, float]  # (start, end) seconds
    talk_over_ratio: float | None  # share of frames where both channels speak; None for mono
    talk_over_at: tuple[float, ...]  # starts of talk-over stretches (seconds)


def _active(channel: np.ndarray) -> np.ndarray:
    frame = int(MODEL_RATE * FRAME_SECONDS)
    n = len(channel) // frame
    if n == 0:
        return np.zeros(0, dtype=bool)
    frames = channel[: n * frame].astype(np.float32).reshape(n, frame)
    rms = np.sqrt(np.mean(frames ** 2, axis=1)) / 32768.0
    return 20 * np.log10(np.maximum(rms, 1e-9)) > SILENCE_DBFS


def analyse(pcm: np.ndarray) -> AudioStats:
    """pcm: int16 (frames, channels) at MODEL_RATE."""
    active = [_active(pcm[:, c]) for c in range(pcm.shape[1])]
    any_active = np.logical_or.reduce(active) if active else np.zeros(0, dtype=bool)
    n = len(any_active)
    silent = ~any_active
    longest, best = (0.0, 0.0), 0
    run_start = None
    for i, s in enumerate(list(silent) + [False]):
        if s and run_start is None:
            run_start = i
        elif not s and run_start is not None:
            if i - run_start > best:
                best, longest = i - run_start, (run_start * FRAME_SECONDS, i * FRAME_SECONDS)
            run_start = None
    talk_over, starts = None, ()
    if len(active) >= 2:
        both = active[0] & active[1]
        talk_over = float(both.mean()) if n else 0.0
        edges = np.flatnonzero(both & ~np.concatenate([[False], both[:-1]]))
        starts = tuple(round(float(e) * FRAME_SECONDS, 1) for e in edges)
    return AudioStats(round(n * FRAME_SECONDS, 1), float(silent.mean()) if n else 1.0,
                      longest, talk_over, starts)
