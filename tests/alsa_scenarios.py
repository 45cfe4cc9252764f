"""Scenarios that need their own ALSA configuration, run in a child process by test_speech.py
(ALSA reads its configuration once per process).  Prints one JSON line of results."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def device_lost(model_dir: str, record: str) -> dict:
    """Fault injection: the stream fails after 1 s, as an unplugged USB headset does."""
    import pyaudio

    from speech.audio import PyAudioSource
    from speech.model import load_model
    from speech.recognizer import CallTranscriber, Ended, new_recognizer
    from speech.recorder import CallRecorder

    real_read = pyaudio.PyAudio.Stream.read
    reads = {"n": 0}

    def failing_read(self, *args, **kwargs):
        reads["n"] += 1
        if reads["n"] > 10:
            raise OSError(-9999, "Unanticipated host error")
        return real_read(self, *args, **kwargs)

    pyaudio.PyAudio.Stream.read = failing_read
    recorder = CallRecorder(Path(record))
    events = []
    t = CallTranscriber(new_recognizer(load_model(Path(model_dir))), PyAudioSource("hotline_in"),
                        events.append, on_audio=recorder)
    t.start()
    t.join(30)
    last = events[-1]
    return {"ended": isinstance(last, Ended), "lost": getattr(last, "lost_device", False),
            "reason": getattr(last, "reason", ""), "recorded": recorder.close()}


def missing_device() -> dict:
    from speech.audio import AudioError, PyAudioSource
    try:
        PyAudioSource("no-such-headset")
    except AudioError as exc:
        return {"error": str(exc)}
    return {"error": None}


def playback(wav: str) -> dict:
    from speech.playback import Player

    positions = []
    player = Player(Path(wav), device="hotline_out", on_position=positions.append)
    try:
        player.set_speed(2.5)
        bad_speed = False
    except ValueError:
        bad_speed = True
    player.seek(1.0)
    player.set_speed(2.0)
    player.play()
    player.wait(30)
    return {"bad_speed_refused": bad_speed, "positions": positions, "duration": player.duration}


if __name__ == "__main__":
    scenario, *args = sys.argv[1:]
    print(json.dumps(globals()[scenario](*args), ensure_ascii=False))
