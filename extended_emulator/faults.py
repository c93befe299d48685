"""Fault injection for tests: HTTP errors/delays, dropped sockets, seq gaps, raw frames."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional

if TYPE_CHECKING:
    from .streams import StreamHub

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpFault:
    status: Optional[int]  # None = answer normally (after the delay)
    delay: float
    path_prefix: Optional[str]
    after_processing: bool = False  # the request is handled (an order placed...), then its answer is replaced

    def applies_to(self, path: str) -> bool:
        return self.path_prefix is None or path.startswith(self.path_prefix)


class Faults:
    def __init__(self, hub_getter):
        self._hub_getter = hub_getter
        self._http: List[HttpFault] = []

    @property
    def _hub(self) -> "StreamHub":
        return self._hub_getter()

    # ----- REST ---------------------------------------------------------------------
    def http(self, status: Optional[int] = 503, count: int = 1, delay: float = 0.0,
             path_prefix: Optional[str] = None, after_processing: bool = False) -> None:
        """The next ``count`` REST requests (optionally under ``path_prefix``) answer
        ``status`` (429/500/503/...) and/or are delayed by ``delay`` seconds. With ``after_processing``
        the request is first handled as usual (an order is placed, a cancel done) and only its answer is
        replaced: the exchange acted, the client is told it failed."""
        self._http.extend(HttpFault(status, delay, path_prefix, after_processing) for _ in range(count))

    def take_http_fault(self, path: str) -> Optional[HttpFault]:
        for index, fault in enumerate(self._http):
            if fault.applies_to(path):
                return self._http.pop(index)
        return None

    def clear(self) -> None:
        self._http.clear()

    @property
    def pending_http(self) -> int:
        return len(self._http)

    # ----- WebSocket ----------------------------------------------------------------
    def drop_websockets(self, path_prefix: Optional[str] = None, after_messages: int = 0,
                        limit: Optional[int] = None) -> int:
        """Close matching streams (at most ``limit``, oldest first) now, or each after N more messages.
        ``path_prefix`` may be relative to the stream root (e.g. "account", "orderbooks/BTC-USD")."""
        log.info("fault: drop websockets prefix=%s after=%s limit=%s", path_prefix, after_messages, limit)
        return self._hub.drop(path_prefix, after_messages, limit)

    def skip_seq(self, path_prefix: Optional[str] = None) -> int:
        """The next message on each matching stream jumps seq by 2 (one number is skipped)."""
        return self._hub.skip_seq(path_prefix)

    def send_raw(self, path_prefix: Optional[str], text: str) -> int:
        """Send ``text`` verbatim (e.g. malformed JSON) to matching streams, with no seq."""
        return self._hub.send_raw(path_prefix, text)

    def send_malformed(self, path_prefix: Optional[str] = None) -> int:
        return self.send_raw(path_prefix, '{"type": "ORDER", "data": {')

    def send_unknown_type(self, path_prefix: Optional[str] = None) -> int:
        """A well-formed message with an unknown ``type`` (it takes the next seq)."""
        targets = self._hub.matching(path_prefix)
        for conn in targets:
            conn.enqueue({"type": "UNKNOWN_EMULATOR_TYPE", "data": {}, "ts": 0})
        return len(targets)
