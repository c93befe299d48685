"""The Extended account stream (``/account``): orders, trades, balance and positions of one sub-account.

The API key travels in the ``X-Api-Key`` handshake header, never in the URL. The stream needs no subscription:
on connection it sends ORDER, BALANCE and POSITION snapshots (``isSnapshot: true``), then updates, each with a
``seq`` counting from 1 per connection. A gap in ``seq`` means lost messages: the connection is dropped and
re-opened, and after every re-connection a ``RECONCILE`` marker is queued so that the connector reconciles over
REST (open orders, recent trades, positions, balance) what the interruption may have hidden.
"""
import asyncio
import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_account_messages as messages,
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_auth import ExtendedPerpetualAuth
from hummingbot.core.data_type.user_stream_tracker_data_source import UserStreamTrackerDataSource
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.core.web_assistant.ws_assistant import WSAssistant
from hummingbot.logger import HummingbotLogger

if TYPE_CHECKING:
    from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (
        ExtendedPerpetualDerivative,
    )


class SequenceGapError(ConnectionError):
    """The account stream skipped a ``seq`` number: some messages were lost."""


class ExtendedPerpetualUserStreamDataSource(UserStreamTrackerDataSource):
    _logger: Optional[HummingbotLogger] = None
    # Timing settings as attributes (like the order book data source's), so tests and tools can shorten them.
    RECONNECT_INITIAL_DELAY: float = CONSTANTS.WS_RECONNECT_INITIAL_DELAY
    RECONNECT_MAX_DELAY: float = CONSTANTS.WS_RECONNECT_MAX_DELAY
    RECEIVE_TIMEOUT: float = CONSTANTS.WS_RECEIVE_TIMEOUT
    HEARTBEAT_INTERVAL: float = CONSTANTS.WS_HEARTBEAT_TIME_INTERVAL
    # Only a connection that lived this long resets the reconnection delay: a server accepting then closing every
    # socket right after its snapshots must not be re-dialled (and reconciled over REST) at the minimum delay.
    STABLE_CONNECTION_SECONDS: float = 30.0

    def __init__(self, auth: ExtendedPerpetualAuth, trading_pairs: List[str],
                 connector: "ExtendedPerpetualDerivative", api_factory: WebAssistantsFactory,
                 domain: str = CONSTANTS.DEFAULT_DOMAIN):
        super().__init__()
        self._auth = auth
        self._trading_pairs = trading_pairs
        self._connector = connector
        self._api_factory = api_factory
        self._domain = domain
        self._last_seq: Optional[int] = None
        self._connections = 0
        self._reconnect_delay = self.RECONNECT_INITIAL_DELAY

    async def listen_for_user_stream(self, output: asyncio.Queue):
        """Connect, forward messages, and on any interruption reconnect after a growing delay."""
        while True:
            connected_at = None
            try:
                self._ws_assistant = await self._connected_websocket_assistant()
                connected_at = self._monotonic()
                await self._subscribe_channels(websocket_assistant=self._ws_assistant)
                self._queue_reconciliation_if_reconnected(output)
                await self._process_websocket_messages(websocket_assistant=self._ws_assistant, queue=output)
                self.logger().warning("The account stream was closed by the server. Reconnecting...")
            except asyncio.CancelledError:
                raise
            except SequenceGapError as gap:
                self.logger().warning(f"{gap}. Reconnecting, then reconciling the account over REST.")
            except asyncio.TimeoutError:
                self.logger().warning(f"The account stream was silent for {self.RECEIVE_TIMEOUT:g} s "
                                      f"(not even pings). Reconnecting...")
            except ConnectionError as connection_exception:
                self.logger().warning(f"The account stream connection was closed ({connection_exception}).")
            except Exception:
                self.logger().exception("Unexpected error while listening to the account stream.")
            finally:
                await self._on_user_stream_interruption(websocket_assistant=self._ws_assistant)
                self._ws_assistant = None
            if connected_at is not None and self._monotonic() - connected_at >= self.STABLE_CONNECTION_SECONDS:
                self._reconnect_delay = self.RECONNECT_INITIAL_DELAY
            await self._sleep(self._next_reconnect_delay())

    @staticmethod
    def _monotonic() -> float:
        return time.monotonic()

    def _next_reconnect_delay(self) -> float:
        delay = self._reconnect_delay
        self._reconnect_delay = min(delay * 2, self.RECONNECT_MAX_DELAY)
        return delay

    def _queue_reconciliation_if_reconnected(self, output: asyncio.Queue):
        self._connections += 1
        if self._connections > 1:
            output.put_nowait(messages.reconcile_message("account stream reconnected"))

    async def _connected_websocket_assistant(self) -> WSAssistant:
        ws = await self._api_factory.get_ws_assistant()
        await ws.connect(
            ws_url=web_utils.wss_url(CONSTANTS.WS_ACCOUNT_PATH, self._domain),
            ws_headers=self._auth.ws_handshake_headers(),
            ping_timeout=self.HEARTBEAT_INTERVAL,
            message_timeout=self.RECEIVE_TIMEOUT,
        )
        self._last_seq = None
        self.logger().info("Connected to the Extended account stream.")
        return ws

    async def _subscribe_channels(self, websocket_assistant: WSAssistant):
        """The account stream starts sending on connection; there is nothing to subscribe to."""

    async def _process_event_message(self, event_message: Any, queue: asyncio.Queue):
        if isinstance(event_message, dict):
            self._check_sequence(event_message)
        if event_message:
            queue.put_nowait(event_message)

    def _check_sequence(self, event_message: Dict[str, Any]):
        seq = event_message.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            return
        expected = None if self._last_seq is None else self._last_seq + 1
        self._last_seq = seq
        if expected is not None and seq != expected:
            raise SequenceGapError(f"Account stream sequence gap: expected seq {expected}, received {seq}")
