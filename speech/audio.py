"""Audio in: WAV files (PCM, G.711 µ-law/A-law, any rate) and pyaudio capture devices.

Every source yields `Chunk`s of mono or multi-channel 16-bit PCM at the rate the
recogniser wants, resampled with a polyphase filter (scipy `resample_poly`), together with
the time of the chunk from the start of the call.
"""

from __future__ import annotations

import struct
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

MODEL_RATE = 16000
CHUNK_SECONDS = 0.1

WAVE_FORMAT_PCM, WAVE_FORMAT_ALAW, WAVE_FORMAT_MULAW, WAVE_FORMAT_EXTENSIBLE = 1, 6, 7, 0xFFFE


class AudioError(Exception):
    """Audio that cannot be read; the message says what is wrong with it."""


@dataclass(frozen=True)
class Chunk:
    pcm: np.ndarray  # int16, shape (frames, channels)
    start: float  # seconds from the start of the call
    listen: int | None = None  # the channel the recogniser hears (a phone line: the caller's)

    @property
    def mono(self) -> np.ndarray:
        if self.pcm.shape[1] == 1:
            return self.pcm[:, 0]
        if self.listen is not None:
            return self.pcm[:, self.listen]
        return self.pcm.mean(axis=1).astype(np.int16)

    @property
    def seconds(self) -> float:
        return len(self.pcm) / MODEL_RATE


@dataclass(frozen=True)
class DeviceLost:
    """The capture device disappeared; what was captured before is kept."""

    at: float
    reason: str


# -- G.711 ----------------------------------------------------------------------------------
def _mulaw_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.uint8)
    sign = (u & 0x80) != 0
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = ((mantissa.astype(np.int32) << 3) + 0x84) << exponent
    return np.where(sign, 0x84 - magnitude, magnitude - 0x84).astype(np.int16)


def _alaw_table() -> np.ndarray:
    a = np.arange(256, dtype=np.uint8) ^ 0x55
    sign = (a & 0x80) != 0
    exponent = (a >> 4) & 0x07
    mantissa = (a & 0x0F).astype(np.int32)
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8,
                         ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    return np.where(sign, magnitude, -magnitude).astype(np.int16)


MULAW = _mulaw_table()
ALAW = _alaw_table()


# -- WAV --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WavInfo:
    path: Path
    format: int
    channels: int
    rate: int
    bits: int
    data_offset: int
    data_bytes: int
    truncated: bool  # the data chunk is shorter than its header says

    @property
    def frames(self) -> int:
        return self.data_bytes // (self.channels * self.bits // 8)

    @property
    def seconds(self) -> float:
        return self.frames / self.rate

    @property
    def codec(self) -> str:
        return {WAVE_FORMAT_PCM: "PCM", WAVE_FORMAT_ALAW: "G.711 A-law",
                WAVE_FORMAT_MULAW: "G.711 µ-law"}[self.format]


def read_wav_info(path: Path) -> WavInfo:
    """Parse the RIFF header; raise AudioError for anything that is not a usable WAV."""
    path = Path(path)
    try:
        size = path.stat().st_size
        fh = open(path, "rb")
    except OSError as exc:
        raise AudioError(f"{path}: cannot open ({exc.strerror})") from None
    with fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise AudioError(f"{path}: not a WAV file (no RIFF/WAVE header)")
        fmt = None
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                raise AudioError(f"{path}: no audio data chunk" if fmt else f"{path}: no fmt chunk")
            cid, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                body = fh.read(length)
                if len(body) < 16:
                    raise AudioError(f"{path}: fmt chunk too short")
                tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                if tag == WAVE_FORMAT_EXTENSIBLE and len(body) >= 26:
                    tag = struct.unpack("<H", body[24:26])[0]
                fmt = (tag, channels, rate, bits)
                if length % 2:
                    fh.read(1)
            elif cid == b"data":
                if fmt is None:
                    raise AudioError(f"{path}: data before fmt chunk")
                offset = fh.tell()
                available = size - offset
                tag, channels, rate, bits = fmt
                break
            else:
                fh.seek(length + (length % 2), 1)
    if tag not in (WAVE_FORMAT_PCM, WAVE_FORMAT_ALAW, WAVE_FORMAT_MULAW):
        raise AudioError(f"{path}: unsupported WAV format tag {tag} (PCM, A-law and µ-law are read)")
    if tag == WAVE_FORMAT_PCM and bits != 16:
        raise AudioError(f"{path}: {bits}-bit PCM; 16-bit PCM is expected")
    if tag != WAVE_FORMAT_PCM and bits != 8:
        raise AudioError(f"{path}: G.711 must be 8 bits per sample, got {bits}")
    if not 1 <= channels <= 2 or not 4000 <= rate <= 192000:
        raise AudioError(f"{path}: {channels} channels at {rate} Hz is not telephone or speech audio")
    frame = channels * bits // 8
    data_bytes = min(length, available) // frame * frame
    return WavInfo(path, tag, channels, rate, bits, offset, data_bytes, available < length)


def decode(raw: bytes, info: WavInfo) -> np.ndarray:
    """Bytes of the data chunk → int16 array (frames, channels)."""
    if info.format == WAVE_FORMAT_PCM:
        samples = np.frombuffer(raw, dtype="<i2")
    else:
        table = MULAW if info.format == WAVE_FORMAT_MULAW else ALAW
        samples = table[np.frombuffer(raw, dtype=np.uint8)]
    return samples.reshape(-1, info.channels)


class Resampler:
    """Streaming polyphase resampling (scipy resample_poly) without seams between blocks.

    An output sample is emitted once the input around it (the filter's support, `margin`
    frames either side) has arrived; the buffer keeps `margin` frames of context before
    the next sample due.  The stream equals resampling the whole signal at once;
    `flush()` releases the tail at the end.
    """

    def __init__(self, rate: int, target: int = MODEL_RATE):
        ratio = Fraction(target, rate).limit_denominator(1000)
        self.up, self.down = ratio.numerator, ratio.denominator
        self.identity = rate == target
        if not self.identity:  # scipy.signal takes a second to import: only a resampling line waits for it
            from scipy.signal import resample_poly
            self._resample_poly = resample_poly
        self.margin = 32 * self.down  # input frames, beyond the filter's half length
        self._buffer: np.ndarray | None = None
        self._buffer_start = 0  # absolute input index of _buffer[0] (a multiple of down)
        self._received = 0
        self._emitted = 0  # absolute output index of the next sample to emit

    def __call__(self, block: np.ndarray) -> np.ndarray:
        if self.identity:
            return block
        self._buffer = block if self._buffer is None else np.concatenate([self._buffer, block])
        self._received += len(block)
        return self._emit((self._received - self.margin) * self.up // self.down)

    def flush(self) -> np.ndarray:
        if self.identity or self._buffer is None:
            return np.zeros((0, 1), dtype=np.int16)
        return self._emit(-(-self._received * self.up // self.down))

    def _emit(self, ready: int) -> np.ndarray:
        if ready <= self._emitted:
            return np.zeros((0, self._buffer.shape[1]), dtype=np.int16)
        out = self._resample_poly(self._buffer.astype(np.float32), self.up, self.down, axis=0)
        offset = self._buffer_start * self.up // self.down
        piece = out[self._emitted - offset:ready - offset]
        self._emitted = ready
        keep_from = max(0, self._emitted * self.down // self.up - self.margin)
        keep_from = keep_from // self.down * self.down
        if keep_from > self._buffer_start:
            self._buffer = self._buffer[keep_from - self._buffer_start:]
            self._buffer_start = keep_from
        return np.clip(np.rint(piece), -32768, 32767).astype(np.int16)


class WavSource:
    """A recorded call, played in real time (as a simulated call) or as fast as possible."""

    def __init__(self, path: Path, realtime: bool = False):
        self.info = read_wav_info(path)
        self.realtime = realtime
        self.channels = self.info.channels

    def chunks(self) -> Iterator[Chunk]:
        info = self.info
        resample = Resampler(info.rate)
        frame_bytes = info.channels * info.bits // 8
        step = max(1, int(info.rate * CHUNK_SECONDS)) * frame_bytes
        started = time.monotonic()
        produced = 0
        with open(info.path, "rb") as fh:
            fh.seek(info.data_offset)
            remaining = info.data_bytes
            while remaining > 0:
                raw = fh.read(min(step, remaining))
                if not raw:
                    break
                remaining -= len(raw)
                pcm = resample(decode(raw[: len(raw) // frame_bytes * frame_bytes], info))
                if remaining <= 0:
                    pcm = np.concatenate([pcm, resample.flush().reshape(-1, info.channels)])
                if not len(pcm):
                    continue
                start = produced / MODEL_RATE
                produced += len(pcm)
                if self.realtime:  # a chunk is there once its last sample has been "heard"
                    delay = started + produced / MODEL_RATE - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                yield Chunk(pcm, start)


class PyAudioSource:
    """Capture from the device named in seats.toml (a name substring or an index)."""

    def __init__(self, device: str | int, rate: int = MODEL_RATE, channels: int = 1):
        from .devices import open_portaudio

        self._pa = open_portaudio()
        self.index = self.find_device(self._pa, device)
        self.rate, self.channels = rate, channels
        self.lost: DeviceLost | None = None
        self._stop = threading.Event()

    @staticmethod
    def find_device(pa, device: str | int) -> int:
        from .devices import devices_with, match_device

        inputs = devices_with(pa, "maxInputChannels")
        if device == "default":
            try:
                return int(pa.get_default_input_device_info()["index"])
            except OSError:
                pass
        elif (index := match_device(inputs, device)) is not None:
            return index
        names = ", ".join(f"{i}: {d['name']}" for i, d in inputs) or "none"
        raise AudioError(f"capture device {device!r} not found (input devices: {names})")

    def stop(self) -> None:
        self._stop.set()

    def chunks(self) -> Iterator[Chunk | DeviceLost]:
        import pyaudio

        from .devices import quiet_audio_libraries

        per_chunk = int(self.rate * CHUNK_SECONDS)
        resample = Resampler(self.rate)
        try:
            with quiet_audio_libraries():
                stream = self._pa.open(format=pyaudio.paInt16, channels=self.channels, rate=self.rate,
                                       input=True, input_device_index=self.index,
                                       frames_per_buffer=per_chunk)
        except OSError as exc:
            self._pa.terminate()
            raise AudioError(f"cannot open capture device {self.index}: {exc}") from None
        produced = 0
        try:
            while not self._stop.is_set():
                try:
                    raw = stream.read(per_chunk, exception_on_overflow=False)
                except OSError as exc:  # unplugged, driver gone
                    self.lost = DeviceLost(produced / MODEL_RATE, str(exc))
                    yield self.lost
                    return
                pcm = resample(np.frombuffer(raw, dtype="<i2").reshape(-1, self.channels))
                if len(pcm):
                    yield Chunk(pcm, produced / MODEL_RATE)
                    produced += len(pcm)
        finally:
            try:
                stream.close()
            finally:
                self._pa.terminate()

