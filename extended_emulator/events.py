"""The interface through which the exchange core reports stream events."""
from __future__ import annotations

from typing import Protocol


class EventSink(Protocol):
    def account_message(self, account_id: int, message: dict) -> None: ...

    def public_message(self, channel: str, market: str, message: dict) -> None: ...

    def candle_changed(self, market: str, candle_type: str) -> None: ...


class NullSink:
    def account_message(self, account_id: int, message: dict) -> None:
        return None

    def public_message(self, channel: str, market: str, message: dict) -> None:
        return None

    def candle_changed(self, market: str, candle_type: str) -> None:
        return None
