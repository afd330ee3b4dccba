"""Time for sender tests: an injected clock no test reads the wall clock from, and the real limiter noting its slots."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from itertools import pairwise

from sms_board.plumbing.utc import utcnow
from sms_board.sending.ratelimit import SlotLimiter


class FakeClock:
    """Injected time. A thread's `sleep(s)` wakes s after that thread last read the clock,
    so threads sleeping side by side overlap, as real ones do, instead of adding up."""

    def __init__(self) -> None:
        self.start = self._now = utcnow()
        self._lock = threading.Lock()
        self._last_read = threading.local()

    def now(self) -> datetime:
        with self._lock:
            self._last_read.moment = self._now
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            since = getattr(self._last_read, "moment", self._now)
            self._now = max(self._now, since + timedelta(seconds=seconds))

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

    def move_to(self, moment: datetime) -> None:
        with self._lock:
            self._now = max(self._now, moment)

    @property
    def elapsed(self) -> float:
        return (self.now() - self.start).total_seconds()


class RecordingLimiter(SlotLimiter):
    """The real shared limiter, noting every slot it hands out (start, units)."""

    def __init__(self, *args: object, slots: list[tuple[datetime, float]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.slots = slots
        self._lock = threading.Lock()

    def take(self, units: float = 1) -> datetime:
        start = super().take(units)
        with self._lock:
            self.slots.append((start, units))
        return start

    def give_back(self, start: datetime, units: float = 1) -> None:
        # A slot that sent nothing and went back to the pool may be handed out again.
        super().give_back(start, units)
        with self._lock:
            self.slots.remove((start, units))


def assert_rate_kept(slots: list[tuple[datetime, float]], rate: float) -> None:
    ordered = sorted(slots)
    for (start, units), (following, _) in pairwise(ordered):
        assert (following - start).total_seconds() >= units / rate - 1e-6, f"slots too close: {start} {following}"
