"""Audio devices as PortAudio sees them — without the lines its ALSA and JACK back-ends print
while probing ("ALSA lib … cannot find card", "jack server is not running"), which flood an
agent's or an inspector's terminal and say nothing a user can act on.

The libraries' own error hooks are pointed at a function that keeps the last messages for
the log; stderr itself is left alone (the Textual screen may be drawn on it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections import deque
from dataclasses import dataclass

from .audio import AudioError

log = logging.getLogger(__name__)
_recent: deque[str] = deque(maxlen=20)  # what the libraries said last, for error messages
_hooks: list = []  # the C callbacks must outlive every call into the libraries


def _keep(message: bytes | None) -> None:
    if message:
        text = message.decode("utf-8", "replace").strip()
        _recent.append(text)
        log.debug("audio library: %s", text)


def silence_audio_libraries() -> None:
    """Route ALSA's and JACK's messages to the log (once per process)."""
    if _hooks:
        return
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # probing must not start a JACK server
    # ALSA: snd_lib_error_set_handler(void (*)(const char *file, int line, const char *func,
    # int err, const char *fmt, ...)); the variadic tail is not read, only the format
    alsa_handler = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                    ctypes.c_int, ctypes.c_char_p)
    jack_handler = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
    try:
        alsa = ctypes.CDLL(ctypes.util.find_library("asound") or "libasound.so.2")
        hook = alsa_handler(lambda file, line, func, err, fmt: _keep(
            b"%s: %s" % (func or b"?", fmt or b"")))
        alsa.snd_lib_error_set_handler(hook)
        _hooks.append(hook)
    except (OSError, AttributeError):
        pass
    try:
        jack = ctypes.CDLL(ctypes.util.find_library("jack") or "libjack.so.0")
        hook = jack_handler(_keep)
        jack.jack_set_error_function(hook)
        jack.jack_set_info_function(hook)
        _hooks.append(hook)
    except (OSError, AttributeError):
        pass
    _hooks.append(None)  # done, even where neither library exists


def open_portaudio():
    """pyaudio.PyAudio() with the libraries quiet."""
    import pyaudio

    silence_audio_libraries()
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


def output_index(pa, device: int | str | None) -> int | None:
    """The PortAudio index to play on (None: the default output); AudioError when the
    machine has no output at all or the one asked for is not there."""
    outputs = [i for i in range(pa.get_device_count())
               if pa.get_device_info_by_index(i)["maxOutputChannels"] > 0]
    if not outputs:
        raise AudioError(f"no playback device on this machine ({no_device_reason()})")
    if device is None:
        return None
    if str(device).isdigit():
        if int(device) not in outputs:
            raise AudioError(f"playback device {device} is not an output")
        return int(device)
    named = [i for i in outputs if str(device) in pa.get_device_info_by_index(i)["name"]]
    if not named:
        raise AudioError(f"output device {device!r} not found")
    return named[0]
