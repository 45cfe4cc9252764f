"""hotline demo: the agent console on the embedded database, with a demo call that answers and
plays by itself; afterwards, today's tickets.

Where Kamailio and PJSIP are installed the demo call is a real SIP call: the local PBX runs
(started here unless it already does), seat 1's console registers its extension, and once it
has, `hotline dial` calls 12345 with the demo recording — the ACD picks the seat. Otherwise the
recording rings the seat directly, as a WAV line."""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from pathlib import Path

from rich.markup import escape

from common.paths import data_dir
from floor.lines import DEMO_CALLER, demo_call, demo_utterances
from speech.audio import read_wav_info
from speech.model import MODEL_URL, ModelNotFound, find_model

from . import tickets_cmd
from .common import err, out, run
from .console_cmd import make_console
from .pbx_cmd import plan, sip_settings, start_local_pbx
from .speech import fetch_with_progress

RING_AFTER = 2.0  # seconds between the seat's registration and the demo call


class SipDemo:
    """The demo's citizen on a real phone line: the local PBX and `hotline dial`."""

    def __init__(self, wav: Path, started_pbx: bool):
        self.wav, self.started_pbx = wav, started_pbx
        self.log_path = data_dir() / "pbx" / "demo-dial.log"
        self.caller: subprocess.Popen | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._stopped = False

    @classmethod
    def start(cls, wav: Path) -> SipDemo | None:
        """The PBX running for the demo; None (having said why) when SIP cannot carry it here."""
        from telephony.errors import TelephonyError

        try:
            import pjsua2  # noqa: F401  (the seat's phone)
            from telephony import pbx

            pbx.kamailio_binary()
            if pbx.running_pid(plan()) is not None:
                return cls(wav, started_pbx=False)
            out.print(start_local_pbx())
            return cls(wav, started_pbx=True)
        except (ImportError, TelephonyError) as exc:
            err.print(f"演示来电不经交换机，直接接入座席：{escape(str(exc))}")
            return None

    def dial_soon(self) -> None:
        """The seat's phone has registered: the citizen calls 12345 in a moment."""
        with self._lock:
            if not self._stopped:
                self._timer = threading.Timer(RING_AFTER, self._dial)
                self._timer.daemon = True
                self._timer.start()

    def _dial(self) -> None:
        sip = sip_settings()
        with self._lock:
            if self._stopped:
                return
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log:  # not over the console's screen
                self.caller = subprocess.Popen(
                    [sys.executable, "-m", "console.cli", "dial", sip.service_number, "--wav", str(self.wav),
                     "--from", DEMO_CALLER, "--to", sip.registrar], stdout=log, stderr=log, start_new_session=True)

    def stop(self) -> None:
        """End the citizen's call if it still runs, and the PBX if the demo started it."""
        from telephony import pbx

        with self._lock:
            self._stopped = True
            if self._timer is not None:
                self._timer.cancel()
            caller = self.caller
        if caller is not None and caller.poll() is None:
            caller.terminate()
            try:
                caller.wait(5)
            except subprocess.TimeoutExpired:
                caller.kill()
                caller.wait()
        if self.started_pbx:
            pbx.stop(plan())


def cmd_demo(args: argparse.Namespace) -> int:
    if not args.model and not args.no_fetch:
        try:
            find_model()
        except ModelNotFound:  # fetch it when the network allows; otherwise captions
            try:
                fetch_with_progress(None, MODEL_URL, timeout=10)
            except ModelNotFound as exc:
                err.print(f"演示字幕（未安装语音模型）: {escape(str(exc))}")
    wav = demo_call(data_dir())
    sip = None if args.no_sip else SipDemo.start(wav)
    if sip is None:
        app = run(make_console(args.seat, args.agent, "demo", DEMO_CALLER, args.model, auto_answer=True))
        app.run()
    else:
        try:
            script = {DEMO_CALLER: (demo_utterances(), read_wav_info(wav).seconds)}
            app = run(make_console(args.seat, args.agent, "sip", DEMO_CALLER, args.model, auto_answer=True,
                                   headset=False, scripts=script, on_registered=sip.dial_soon))
            app.at_hard_stop.append(sip.stop)  # a lost terminal must not leave the PBX running
            app.run()
        finally:
            sip.stop()
    return tickets_cmd.cmd_tickets(tickets_cmd.today())


def register(sub) -> None:
    p = sub.add_parser("demo", help="the agent console with a demo call, on the embedded database")
    p.add_argument("--seat", type=int, default=1)
    p.add_argument("--agent", default="demo01")
    p.add_argument("--model", help="Vosk model folder (default: the installed Chinese model)")
    p.add_argument("--no-fetch", action="store_true",
                   help="do not try to download the Chinese model when none is installed")
    p.add_argument("--no-sip", action="store_true",
                   help="ring the seat with the demo recording directly, even where Kamailio is installed")
    p.set_defaults(func=cmd_demo)
