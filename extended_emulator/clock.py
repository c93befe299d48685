"""Settable exchange clock (epoch milliseconds).

The clock follows wall time unless ``frozen``; tests freeze it and move it with
``set``/``advance``. Listeners are told about every jump so the exchange can run
hourly funding, expire orders and fire the dead man's switch.
"""
from __future__ import annotations

import time
from typing import Callable, List, Optional

ClockListener = Callable[[int, int], None]


class Clock:
    def __init__(self, start_ms: Optional[int] = None, frozen: bool = False):
        self._base_ms = int(time.time() * 1000) if start_ms is None else int(start_ms)
        self._base_real = time.monotonic()
        self._frozen = frozen
        self._listeners: List[ClockListener] = []

    @property
    def frozen(self) -> bool:
        return self._frozen

    def now_ms(self) -> int:
        if self._frozen:
            return self._base_ms
        return self._base_ms + int((time.monotonic() - self._base_real) * 1000)

    def freeze(self) -> None:
        self._base_ms = self.now_ms()
        self._frozen = True

    def set(self, epoch_ms: int) -> None:
        old = self.now_ms()
        self._base_ms = int(epoch_ms)
        self._base_real = time.monotonic()
        self._notify(old, self.now_ms())

    def advance(self, seconds: float) -> None:
        self.set(self.now_ms() + int(round(seconds * 1000)))

    def add_listener(self, listener: ClockListener) -> None:
        self._listeners.append(listener)

    def tick(self, previous_ms: int) -> int:
        """Notify listeners of real time that passed since ``previous_ms``; returns now."""
        now = self.now_ms()
        if now != previous_ms:
            self._notify(previous_ms, now)
        return now

    def _notify(self, old_ms: int, new_ms: int) -> None:
        for listener in list(self._listeners):
            listener(old_ms, new_ms)
