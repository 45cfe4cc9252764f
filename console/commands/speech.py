"""hotline models fetch|check | devices | transcribe: offline speech."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from rich.markup import escape

from common.paths import data_dir

from speech.audio import PyAudioSource, WavSource
from speech.bias import second_pass
from speech.devices import list_devices, no_device_reason
from speech.model import CHINESE_MODEL, MODEL_URL, fetch_model, find_model, load_model, models_dir
from speech.recognizer import CallTranscriber, Ended, Final, Partial, new_recognizer
from speech.recorder import CallRecorder, purge_recordings

from .common import err, file_progress, out


def cmd_models(args: argparse.Namespace) -> int:
    if args.action == "check":
        path = find_model(args.model)
        load_model(path)
        out.print(f"Vosk model OK: {path}")
        return 0
    path = fetch_with_progress(Path(args.dir) if args.dir else None, args.source, args.sha256)
    out.print(f"model ready: {path}")
    return 0


def fetch_with_progress(target: Path | None, source: str, sha256: str | None = None,
                        timeout: float = 60) -> Path:
    with file_progress(f"{CHINESE_MODEL} ← {source}", transient=True) as progress:
        task = progress.add_task("fetch", total=None)
        return fetch_model(target, source, sha256=sha256, timeout=timeout,
                           on_progress=lambda done, total: progress.update(task, completed=done,
                                                                           total=total or None))


def cmd_devices(args: argparse.Namespace) -> int:
    devices = list_devices()
    for d in devices:
        kinds = "/".join(k for k, n in (("in", d.inputs), ("out", d.outputs)) if n)
        out.print(f"{d.index:3d}  {kinds:6s}  {d.rate} Hz  {escape(d.name)}")
    if not devices:
        err.print(f"没有可用的音频设备（{escape(no_device_reason())}）：来电仍可来自 SIP 和 WAV 文件；"
                  "耳麦和录音回放需要声卡或 ALSA PCM（见 README 的 Speech 一节）")
        return 1
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    model = load_model(find_model(args.model))
    if args.device is not None:
        source = PyAudioSource(args.device)
    else:
        source = WavSource(Path(args.file), realtime=args.realtime)
    recorder = CallRecorder(Path(args.record), channels=getattr(source, "channels", 1)) if args.record else None
    events = []
    phrases = [p for p in (args.phrases or "").split(",") if p.strip()]

    def show(event) -> None:
        events.append(event)
        if isinstance(event, Final) and args.json:  # JSON Lines as the caller speaks
            record = {"start": event.start, "end": event.end, "text": event.text,
                      "words": [w.__dict__ for w in event.words]}
            if phrases:
                record["biased"] = second_pass(model, event, phrases).biased
            print(json.dumps(record, ensure_ascii=False), flush=True)
        elif isinstance(event, Partial) and not args.json:
            err.print(f"[dim]… {escape(event.text)}[/]")
        elif isinstance(event, Final) and not args.json:
            out.print(f"[{event.start:6.2f}–{event.end:6.2f}] {escape(event.text)}")
        elif isinstance(event, Ended) and event.lost_device:
            err.print(f"[red]{escape(event.reason)}[/] — audio up to {event.seconds:.1f}s kept")

    transcriber = CallTranscriber(new_recognizer(model), source, show, on_audio=recorder)
    transcriber.start()
    try:
        transcriber.join()
    except KeyboardInterrupt:
        transcriber.stop()
        transcriber.join()
    if recorder:
        out.print(f"recorded {recorder.close():.1f}s to {args.record}")
    if transcriber.error:
        raise transcriber.error
    if phrases and not args.json:
        for f in (e for e in events if isinstance(e, Final)):
            out.print(f"  second pass: {escape(second_pass(model, f, phrases).biased)}")
    return 0


def cmd_recordings(args: argparse.Namespace) -> int:
    folder = Path(args.dir) if args.dir else data_dir() / "recordings"
    removed = purge_recordings(folder, args.keep_days) if folder.exists() else []
    out.print(f"removed {len(removed)} recordings older than {args.keep_days} days from {folder}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("recordings", help="apply the recording retention setting")
    p.add_argument("action", choices=["purge"])
    p.add_argument("--keep-days", type=int, default=int(os.environ.get("HOTLINE_RECORDING_DAYS", "180")),
                   help="days to keep (default: HOTLINE_RECORDING_DAYS or 180)")
    p.add_argument("--dir", help="recordings folder (default: <data dir>/recordings)")
    p.set_defaults(func=cmd_recordings)

    p = sub.add_parser("models", help="the Vosk speech model: fetch | check")
    p.add_argument("action", choices=["fetch", "check"])
    p.add_argument("--model", help="model folder to check")
    p.add_argument("--dir", help=f"where to unpack (default {models_dir()})")
    p.add_argument("--sha256", help="expected SHA-256 of the downloaded archive")
    p.add_argument("--from", dest="source", default=MODEL_URL,
                   help="a local copy (the .zip or an unpacked folder) or a mirror's URL")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("devices", help="list pyaudio capture and playback devices")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("transcribe", help="transcribe a WAV file or a capture device")
    p.add_argument("file", nargs="?", help="WAV file (PCM, µ-law or A-law, any rate)")
    p.add_argument("--device", help="capture device name or index instead of a file")
    p.add_argument("--model", help="Vosk model folder (default: HOTLINE_VOSK_MODEL, then the data dir)")
    p.add_argument("--realtime", action="store_true", help="feed the file at its real speed")
    p.add_argument("--record", help="also record what was heard to this WAV file")
    p.add_argument("--phrases", help="comma-separated phrases for a biased second pass")
    p.add_argument("--json", action="store_true", help="one JSON line per utterance")
    p.set_defaults(func=cmd_transcribe)
