"""What a supervisor is warned of on the floor: the rules behind the wallboard's alerts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .settings import AlertLimits
from .vocabulary import SeatState

LOST_HEARTBEAT = "心跳中断"  # the reason a seat closed by close_silent_seats (migration 007) carries


@dataclass
class SeatView:
    """One seat as the wallboard knows it from seat events and heartbeats."""

    seat_id: int
    row: int
    col: int
    state: str = SeatState.OFFLINE
    reason: str = ""
    agent: str = ""
    since: float = field(default_factory=time.time)  # epoch seconds
    heartbeat: float | None = None

    def shown_state(self, now: float, limits: AlertLimits) -> SeatState:
        """The state to show: a seat whose console stopped beating is offline."""
        if self.state != SeatState.OFFLINE and (
                self.heartbeat is None or now - self.heartbeat > limits.offline_seconds):
            return SeatState.OFFLINE
        return SeatState(self.state)

    def alert(self, now: float, limits: AlertLimits) -> str | None:
        minutes = (now - self.since) / 60
        shown = self.shown_state(now, limits)
        if shown == SeatState.OFFLINE and self.state != SeatState.OFFLINE:
            return f"座席{self.seat_id:03d} 心跳中断（{self.agent}）"
        if self.state == SeatState.OFFLINE and self.reason == LOST_HEARTBEAT \
                and minutes <= limits.closed_seat_minutes:
            return f"座席{self.seat_id:03d} 心跳中断，已由系统签出（{self.agent}）"
        if shown == SeatState.TALKING and minutes > limits.long_call_minutes:
            return f"座席{self.seat_id:03d} 通话超过{limits.long_call_minutes:g}分钟"
        if shown == SeatState.WRAP_UP and minutes > limits.wrapup_minutes:
            return f"座席{self.seat_id:03d} 话后整理超时"
        if shown == SeatState.BREAK and minutes > limits.break_minutes:
            return f"座席{self.seat_id:03d} 小休超时（{self.reason}）"
        return None
