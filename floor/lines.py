"""Where a seat's calls come from: a recorded WAV played as an incoming call, the agent's
headset / softphone loopback captured with pyaudio (seats.toml `audio_device`), or the seat's
SIP phone (floor/phone_line.py)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from speech.audio import PyAudioSource, WavSource

DEMO_SCRIPT = ("喂，你好，我住马尚街道松龄花园三号楼二单元，楼道里的灯坏了一个多星期了，"
               "晚上特别黑，老人上下楼不安全，麻烦你们派人来修一下。")
DEMO_CALLER = "13805331234"


def demo_utterances() -> tuple[str, ...]:
    """The demo script as a caller's utterances (one per clause)."""
    return tuple(part for part in DEMO_SCRIPT.replace("。", "，").split("，") if part)


@dataclass
class IncomingCall:
    caller_number: str
    source: WavSource | PyAudioSource
    channels: int = 1
    # what the caller says, known beforehand (the demo): shown as captions when no speech
    # model is installed, so the rest of the console works as in a recognised call
    script: tuple[str, ...] = ()
    seconds: float | None = None  # how long the call lasts, when known
    # a phone line's own signalling: the agent answers (200 OK) and hangs up (BYE / 603)
    on_answer: Callable[[], None] | None = None
    on_hang_up: Callable[[], None] | None = None
    phone: object | None = None  # hold(), resume(), transfer(number): a SIP line's call controls
    agent_channel: int | None = None  # the agent's voice on a stereo line (then heard apart)


class CallSimulator:
    """Rings with a recorded call; answering plays it in real time."""

    def __init__(self, wav: Path, caller_number: str, realtime: bool = True, script: tuple[str, ...] = ()):
        self.wav = Path(wav)
        self.caller_number = caller_number
        self.realtime = realtime
        self.script = script

    def incoming(self) -> IncomingCall:
        source = WavSource(self.wav, realtime=self.realtime)
        return IncomingCall(self.caller_number, source, source.channels, self.script, source.info.seconds)


class HeadsetLine:
    """A live call on the seat's audio device."""

    def __init__(self, device: str | int, caller_number: str):
        self.device = device
        self.caller_number = caller_number

    def incoming(self) -> IncomingCall:
        return IncomingCall(self.caller_number, PyAudioSource(self.device))


def demo_call(folder: Path) -> Path:
    """The demo call: the script spoken by espeak-ng's Mandarin voice (made once)."""
    path = Path(folder) / "demo-call.wav"
    if not path.exists():
        if not shutil.which("espeak-ng"):
            raise FileNotFoundError("espeak-ng is needed to make the demo call (tools/sysdeps.sh installs it)")
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["espeak-ng", "-v", "cmn", "-s", "150", "-w", str(path), DEMO_SCRIPT],
                       check=True, capture_output=True)
    return path
