"""Recording playback for quality inspection: pause, seek, speed 1.0–2.0×, position events.

Speed changes keep the pitch: blocks are time-stretched by overlap-add of Hann-windowed
20 ms frames (hop in = speed × hop out).  Output goes to a pyaudio output device.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

import numpy as np

from .audio import MODEL_RATE, AudioError, WavSource
from .devices import open_portaudio, output_index, quiet_audio_libraries

FRAME = int(0.02 * MODEL_RATE)  # 20 ms
HOP_OUT = FRAME // 2
BLOCK_SECONDS = 0.1
MIN_SPEED, MAX_SPEED = 1.0, 2.0


def load_recording(path: Path) -> np.ndarray:
    """The whole recording as int16 (frames, channels) at MODEL_RATE."""
    chunks = [c.pcm for c in WavSource(path).chunks()]
    if not chunks:
        raise AudioError(f"{path}: the recording holds no audio")
    return np.concatenate(chunks)


def stretch(block: np.ndarray, speed: float) -> np.ndarray:
    """Overlap-add time stretch of float32 (frames, channels) by 1/speed."""
    if abs(speed - 1.0) < 1e-3 or len(block) < FRAME:
        return block
    window = np.hanning(FRAME).astype(np.float32)[:, None]
    hop_in = max(1, int(round(HOP_OUT * speed)))
    starts = range(0, len(block) - FRAME + 1, hop_in)
    out = np.zeros((len(starts) * HOP_OUT + FRAME, block.shape[1]), dtype=np.float32)
    norm = np.zeros((len(out), 1), dtype=np.float32)
    for k, s in enumerate(starts):
        out[k * HOP_OUT:k * HOP_OUT + FRAME] += block[s:s + FRAME] * window
        norm[k * HOP_OUT:k * HOP_OUT + FRAME] += window
    return (out / np.maximum(norm, 1e-3))[: len(starts) * HOP_OUT]


class Player:
    def __init__(self, path: Path, device: int | str | None = None,
                 on_position: Callable[[float], None] | None = None):
        self.audio = load_recording(path)
        self.duration = len(self.audio) / MODEL_RATE
        self.device = device
        self.on_position = on_position
        self._position = 0  # frames
        self._speed = 1.0
        self._playing = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- controls ----------------------------------------------------------------------------
    @property
    def position(self) -> float:
        return self._position / MODEL_RATE

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be from {MIN_SPEED} to {MAX_SPEED}")
        self._speed = speed

    def seek(self, seconds: float) -> None:
        with self._lock:
            self._position = int(min(max(0.0, seconds), self.duration) * MODEL_RATE)
        if self.on_position:
            self.on_position(self.position)

    def play(self) -> None:
        """Start or resume; the first call opens the output here, so that a machine without a
        playback device is an AudioError for the caller, not a traceback in a thread."""
        if self._thread is None:
            pa = open_portaudio()
            try:
                stream = self._open(pa)
            except AudioError:
                pa.terminate()
                raise
            except OSError as exc:  # PortAudio refused the device
                pa.terminate()
                raise AudioError(f"playback device cannot be opened: {exc}") from exc
            self._thread = threading.Thread(target=self._run, args=(pa, stream), name="playback",
                                            daemon=True)
            self._thread.start()
        self._playing.set()

    def pause(self) -> None:
        self._playing.clear()

    @property
    def paused(self) -> bool:
        return not self._playing.is_set()

    def stop(self) -> None:
        self._stopped.set()
        self._playing.set()
        if self._thread:
            self._thread.join(5)

    def wait(self, timeout: float | None = None) -> None:
        if self._thread:
            self._thread.join(timeout)

    # -- output ------------------------------------------------------------------------------
    def _open(self, pa):
        import pyaudio

        index = output_index(pa, self.device)
        with quiet_audio_libraries():
            return pa.open(format=pyaudio.paInt16, channels=self.audio.shape[1], rate=MODEL_RATE,
                           output=True, output_device_index=index,
                           frames_per_buffer=int(MODEL_RATE * BLOCK_SECONDS))

    def _run(self, pa, stream) -> None:
        try:
            while not self._stopped.is_set():
                if not self._playing.wait(0.1):
                    continue
                if self._stopped.is_set():
                    break
                with self._lock:
                    start = self._position
                    take = int(MODEL_RATE * BLOCK_SECONDS * self._speed)
                    block = self.audio[start:start + take]
                    self._position = min(len(self.audio), start + take)
                if not len(block):
                    self._playing.clear()
                    break
                out = stretch(block.astype(np.float32), self._speed)
                stream.write(np.clip(out, -32768, 32767).astype("<i2").tobytes())
                if self.on_position:
                    self.on_position(self.position)
        finally:
            stream.close()
            pa.terminate()
            self._thread = None if self._stopped.is_set() else self._thread

