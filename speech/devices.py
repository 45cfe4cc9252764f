"""Audio devices as PortAudio sees them — without the lines its ALSA and JACK back-ends print
while probing ("ALSA lib … cannot find card", "jack server is not running"), which flood an
agent's or an inspector's terminal and say nothing a user can act on.

While PortAudio probes and opens devices, the libraries' own error hooks point at a function
that keeps their messages for the log; stderr itself is left alone (the Textual screen is
drawn on it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass

from .audio import AudioError

log = logging.getLogger(__name__)
_recent: deque[str] = deque(maxlen=20)  # what the libraries said last, for error messages
_hooks: list = []  # the C callbacks (ALSA, JACK), kept alive for the process


def _keep(message: bytes | None) -> None:
    if message:
        text = message.decode("utf-8", "replace").strip()
        _recent.append(text)
        log.debug("audio library: %s", text)


_ALSA_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                 ctypes.c_int, ctypes.c_char_p)  # the variadic tail is not read
_JACK_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p)


def _library(name: str, fallback: str):
    try:
        return ctypes.CDLL(ctypes.util.find_library(name) or fallback)
    except OSError:
        return None


_alsa = _library("asound", "libasound.so.2")
_jack = _library("jack", "libjack.so.0")


@contextmanager
def quiet_audio_libraries():
    """While PortAudio probes and opens devices, ALSA's and JACK's messages go to the log.

    Only then: a Python hook that stayed installed would run inside every later ALSA message
    (an overrun under load), in the capturing thread, where a Ctrl+C arriving during it would
    be swallowed by ctypes and the call would never stop."""
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # probing must not start a JACK server
    saved_jack = None
    if not _hooks:
        _hooks.append(_ALSA_HANDLER(lambda file, line, func, err, fmt:
                                    _keep(b"%s: %s" % (func or b"?", fmt or b""))))
        _hooks.append(_JACK_HANDLER(_keep))
    try:
        if _alsa is not None:
            _alsa.snd_lib_error_set_handler(_hooks[0])
        if _jack is not None:
            saved_jack = [ctypes.c_void_p.in_dll(_jack, f"jack_{kind}_callback").value for kind in ("error", "info")]
            _jack.jack_set_error_function(_hooks[1])
            _jack.jack_set_info_function(_hooks[1])
        yield
    finally:
        if _alsa is not None:
            _alsa.snd_lib_error_set_handler(None)  # ALSA's own handler again
        if saved_jack is not None:
            for kind, value in zip(("error", "info"), saved_jack):
                ctypes.c_void_p.in_dll(_jack, f"jack_{kind}_callback").value = value


def open_portaudio():
    """pyaudio.PyAudio() without the libraries' probing noise on the terminal."""
    import pyaudio

    with quiet_audio_libraries():
        return pyaudio.PyAudio()


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    inputs: int
    outputs: int
    rate: int


def list_devices() -> list[Device]:
    pa = open_portaudio()
    try:
        return [Device(i, d["name"], int(d["maxInputChannels"]), int(d["maxOutputChannels"]),
                       int(d["defaultSampleRate"]))
                for i in range(pa.get_device_count()) for d in [pa.get_device_info_by_index(i)]]
    finally:
        pa.terminate()


def no_device_reason() -> str:
    """Why nothing was found, in the users' words (the libraries' lines are in the log)."""
    if any("card" in line for line in _recent):
        return "ALSA 找不到声卡"
    return "PortAudio 没有找到声卡"


def devices_with(pa, channels: str) -> list[tuple[int, dict]]:
    """PortAudio's devices that have `channels` ("maxInputChannels" or "maxOutputChannels")."""
    found = [(i, pa.get_device_info_by_index(i)) for i in range(pa.get_device_count())]
    return [(i, d) for i, d in found if d[channels] > 0]


def match_device(devices: list[tuple[int, dict]], wanted: int | str) -> int | None:
    """The device a seats.toml or command-line value means: its index, its exact name, or a
    part of its name (None: none of these)."""
    if isinstance(wanted, int) or str(wanted).isdigit():
        return int(wanted) if any(i == int(wanted) for i, _ in devices) else None
    for i, d in devices:
        if d["name"] == wanted:
            return i
    return next((i for i, d in devices if str(wanted) in d["name"]), None)


def output_index(pa, device: int | str | None) -> int | None:
    """The PortAudio index to play on (None: the default output); AudioError when the
    machine has no output at all or the one asked for is not there."""
    outputs = devices_with(pa, "maxOutputChannels")
    if not outputs:
        raise AudioError(f"no playback device on this machine ({no_device_reason()})")
    if device is None:
        return None
    index = match_device(outputs, device)
    if index is None:
        raise AudioError(f"playback device {device} is not an output" if str(device).isdigit()
                         else f"output device {device!r} not found")
    return index
