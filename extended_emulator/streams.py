"""WebSocket streams: per-connection seq, server pings, snapshot-then-updates.

Every connection owns a queue and a writer task, so the synchronous exchange
core can enqueue messages (seq is assigned at enqueue time, keeping order).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Set

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)
STREAM_PREFIX = "/stream.extended.exchange/v1"
_OPEN_COUNTER = itertools.count()


@dataclass(eq=False)
class StreamConnection:
    ws: web.WebSocketResponse
    path: str
    channel: str
    market: Optional[str] = None
    account_id: Optional[int] = None
    candle_type: Optional[str] = None
    interval_ms: Optional[int] = None
    seq: int = 0
    skip_next_seq: bool = False
    drop_after: Optional[int] = None
    last_pong: float = 0.0
    opened_order: int = field(default_factory=lambda: next(_OPEN_COUNTER))
    queue: "asyncio.Queue[Optional[str]]" = field(default_factory=asyncio.Queue)

    def enqueue(self, message: dict) -> None:
        self.seq += 2 if self.skip_next_seq else 1
        self.skip_next_seq = False
        self.queue.put_nowait(json.dumps({**message, "seq": self.seq}))

    def enqueue_raw(self, text: str) -> None:
        self.queue.put_nowait(text)

    def wants(self, channel: str, market: Optional[str]) -> bool:
        return self.channel == channel and (self.market is None or self.market == market)


class StreamHub:
    """Implements the exchange's EventSink and owns all live WebSocket connections."""

    def __init__(self, ping_interval: float, pong_timeout: float, candle_builder: Callable[..., List[dict]],
                 now_ms: Callable[[], int]):
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.connections: Set[StreamConnection] = set()
        self._candle_builder = candle_builder
        self._now_ms = now_ms

    # ----- EventSink ----------------------------------------------------------------
    def account_message(self, account_id: int, message: dict) -> None:
        for conn in list(self.connections):
            if conn.channel == "account" and conn.account_id == account_id:
                self._send(conn, message)

    def public_message(self, channel: str, market: str, message: dict) -> None:
        for conn in list(self.connections):
            if conn.wants(channel, market):
                self._send(conn, message)

    def candle_changed(self, market: str, candle_type: str) -> None:
        for conn in list(self.connections):
            if conn.channel == "candles" and conn.market == market and conn.candle_type == candle_type:
                candles = self._candle_builder(market, candle_type, conn.interval_ms, 1)
                self._send(conn, {"ts": self._now_ms(), "data": candles})

    def _send(self, conn: StreamConnection, message: dict) -> None:
        conn.enqueue(message)
        if conn.drop_after is not None:
            conn.drop_after -= 1
            if conn.drop_after <= 0:
                conn.drop_after = None
                conn.queue.put_nowait(None)

    # ----- fault hooks --------------------------------------------------------------
    def matching(self, path_prefix: Optional[str]) -> List[StreamConnection]:
        prefix = _full_prefix(path_prefix)
        matching = [c for c in self.connections if prefix is None or c.path.startswith(prefix)]
        return sorted(matching, key=lambda c: c.opened_order)

    def drop(self, path_prefix: Optional[str] = None, after_messages: int = 0, limit: Optional[int] = None) -> int:
        """Close matching connections (at most ``limit``, oldest first) now, or after N more messages each."""
        targets = self.matching(path_prefix)[:limit]
        for conn in targets:
            if after_messages > 0:
                conn.drop_after = after_messages
            else:
                conn.queue.put_nowait(None)
        return len(targets)

    def skip_seq(self, path_prefix: Optional[str] = None) -> int:
        targets = self.matching(path_prefix)
        for conn in targets:
            conn.skip_next_seq = True
        return len(targets)

    def send_raw(self, path_prefix: Optional[str], text: str) -> int:
        targets = self.matching(path_prefix)
        for conn in targets:
            conn.enqueue_raw(text)
        return len(targets)

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close(code=1001, message=b"server shutdown")

    # ----- serving ------------------------------------------------------------------
    async def serve(self, request: web.Request, conn_factory: Callable[[web.WebSocketResponse], StreamConnection],
                    initial: Callable[[], List[dict]]) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        conn = conn_factory(ws)
        conn.last_pong = asyncio.get_running_loop().time()
        self.connections.add(conn)
        for message in initial():
            self._send(conn, message)
        tasks = [asyncio.create_task(self._writer(conn)), asyncio.create_task(self._heartbeat(conn))]
        try:
            await self._reader(conn)
        finally:
            self.connections.discard(conn)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if not ws.closed:
                await ws.close()
        return ws

    async def _reader(self, conn: StreamConnection) -> None:
        async for msg in conn.ws:
            if msg.type == WSMsgType.PING:
                await conn.ws.pong(msg.data)
            elif msg.type == WSMsgType.PONG:
                conn.last_pong = asyncio.get_running_loop().time()
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.ERROR):
                break

    async def _writer(self, conn: StreamConnection) -> None:
        while True:
            text = await conn.queue.get()
            if text is None:
                log.info("dropping stream connection %s", conn.path)
                await conn.ws.close(code=1001, message=b"dropped")
                return
            try:
                await conn.ws.send_str(text)
            except ConnectionError:
                return

    async def _heartbeat(self, conn: StreamConnection) -> None:
        loop = asyncio.get_running_loop()
        while not conn.ws.closed:
            await asyncio.sleep(self.ping_interval)
            sent_at = loop.time()
            try:
                await conn.ws.ping()
            except ConnectionError:
                return
            await asyncio.sleep(self.pong_timeout)
            if conn.last_pong < sent_at:
                log.info("no pong within %.3fs, closing %s", self.pong_timeout, conn.path)
                await conn.ws.close(code=1011, message=b"pong timeout")
                return


def _full_prefix(path_prefix: Optional[str]) -> Optional[str]:
    if path_prefix is None:
        return None
    if path_prefix.startswith(STREAM_PREFIX):
        return path_prefix
    return STREAM_PREFIX + "/" + path_prefix.lstrip("/")
