"""Price points per market and price type, folded into OHLC candles on demand."""
from __future__ import annotations

from decimal import Decimal
from typing import Dict, List, Optional, Tuple

CANDLE_TYPES = ("trades", "mark-prices", "index-prices")
MINUTE_MS = 60_000
INTERVALS_MS = {
    "PT1M": MINUTE_MS, "PT5M": 5 * MINUTE_MS, "PT15M": 15 * MINUTE_MS, "PT30M": 30 * MINUTE_MS,
    "PT1H": 60 * MINUTE_MS, "PT2H": 120 * MINUTE_MS, "PT4H": 240 * MINUTE_MS, "PT8H": 480 * MINUTE_MS,
    "PT12H": 720 * MINUTE_MS, "PT24H": 1440 * MINUTE_MS, "P7D": 7 * 1440 * MINUTE_MS,
    "P30D": 30 * 1440 * MINUTE_MS,
}
Point = Tuple[int, Decimal, Decimal]  # (ts, price, volume)


class CandleStore:
    def __init__(self) -> None:
        self._points: Dict[Tuple[str, str], List[Point]] = {}

    def add(self, market: str, candle_type: str, ts: int, price: Decimal, volume: Decimal = Decimal(0)) -> None:
        self._points.setdefault((market, candle_type), []).append((ts, price, volume))

    def candles(self, market: str, candle_type: str, interval_ms: int, limit: int,
                end_ms: Optional[int] = None) -> List[dict]:
        """Candles newest first."""
        buckets: Dict[int, List[Point]] = {}
        for point in self._points.get((market, candle_type), []):
            if end_ms is None or point[0] <= end_ms:
                buckets.setdefault(point[0] - point[0] % interval_ms, []).append(point)
        starts = sorted(buckets, reverse=True)[:max(limit, 0)]
        return [self._fold(start, buckets[start], candle_type) for start in starts]

    @staticmethod
    def _fold(start: int, points: List[Point], candle_type: str) -> dict:
        prices = [p[1] for p in points]
        candle = {"T": start, "o": str(prices[0]), "h": str(max(prices)), "l": str(min(prices)),
                  "c": str(prices[-1])}
        if candle_type == "trades":
            candle["v"] = str(sum((p[2] for p in points), Decimal(0)))
        return candle
