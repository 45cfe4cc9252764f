"""Automatic pre-checks with timestamped evidence; the inspector confirms or overrides."""

from __future__ import annotations

from dataclasses import dataclass

from domain.vocabulary import Speaker
from speech.analysis import AudioStats

GREETINGS = ("您好", "你好", "12345", "很高兴为您服务", "请讲")
CLOSINGS = ("再见", "感谢您的来电", "还有其他", "祝您", "请您保持电话畅通")
POLITE = ("请", "您", "谢谢", "不客气", "麻烦")
GREETING_WINDOW = 20.0  # seconds
MAX_SILENCE = 0.4
MAX_TALK_OVER = 0.1


@dataclass(frozen=True)
class CheckResult:
    passed: bool | None  # None: cannot be checked automatically here
    evidence: str


def _stamp(u: dict) -> str:
    seconds = int(u.get("start", 0))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


AGENT_CHECKS = ("greeting", "closing", "polite", "address_read_back")  # about what the agent says


def agents_words(transcript: list[dict]) -> list[dict] | None:
    """What the agent said: the 话务员 side of a transcript that tells the sides apart, the whole
    of an older one-voice transcript, None when the sides are told apart but the agent's side
    is empty (no headset on the line: nothing to judge)."""
    if not any("speaker" in u for u in transcript):
        return transcript
    said = [u for u in transcript if u.get("speaker") == Speaker.AGENT]
    return said or None


def run_check(check: str | None, transcript: list[dict], address_names: list[str],
              stats: AudioStats | None) -> CheckResult:
    if check is None:
        return CheckResult(None, "人工评定")
    if check in AGENT_CHECKS:
        transcript = agents_words(transcript)
        if transcript is None:
            return CheckResult(None, "话务员一侧无转写")
    if check == "greeting":
        hit = next((u for u in transcript if u.get("start", 0) <= GREETING_WINDOW
                    and any(g in u.get("text", "") for g in GREETINGS)), None)
        return CheckResult(bool(hit), f"{_stamp(hit)} {hit['text'][:20]}" if hit else "开头未听到问候语")
    if check == "closing":
        tail = transcript[-2:]
        hit = next((u for u in reversed(tail) if any(c in u.get("text", "") for c in CLOSINGS)), None)
        return CheckResult(bool(hit), f"{_stamp(hit)} {hit['text'][:20]}" if hit else "结尾未听到结束语")
    if check == "polite":
        hits = [u for u in transcript if any(p in u.get("text", "") for p in POLITE)]
        return CheckResult(len(hits) >= 2, "、".join(_stamp(u) for u in hits[:4]) or "未听到礼貌用语")
    if check == "address_read_back":
        if not address_names:
            return CheckResult(None, "工单无地址")
        said = [u for u in transcript if any(n and n in u.get("text", "") for n in address_names)]
        return CheckResult(len(said) >= 2, ("地址出现于 " + "、".join(_stamp(u) for u in said[:4]))
                           if said else "通话中未复述地址")
    if stats is None:
        return CheckResult(None, "无录音")
    if check == "silence":
        start, end = stats.longest_silence
        return CheckResult(stats.silence_ratio <= MAX_SILENCE,
                           f"静默{stats.silence_ratio:.0%}，最长{end - start:.0f}秒（{int(start) // 60:02d}:{int(start) % 60:02d}起）")
    if check == "talk_over":
        if stats.talk_over_ratio is None:
            return CheckResult(None, "单声道录音，无法判断")
        at = "、".join(f"{int(s) // 60:02d}:{int(s) % 60:02d}" for s in stats.talk_over_at[:4])
        return CheckResult(stats.talk_over_ratio <= MAX_TALK_OVER, f"抢话{stats.talk_over_ratio:.0%} {at}")
    raise ValueError(f"unknown check {check}")
