"""Hummingbot perpetual connector for Extended (Starknet perpetuals): trading, account state and funding.

Orders are signed locally (``extended_perpetual_signer``) and sent with the Hummingbot client order id as
Extended's external id. The account stream is the primary source of order, fill, balance and position updates;
REST polling is a batched backup (one request per kind for all orders / pairs) because the 1,000 requests per
minute budget is per IP, shared by every bot on the host. Time is the local clock: Extended has no server-time
endpoint.
"""
import asyncio
import json
import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Dict, List, Optional, Set, Tuple

from hummingbot.connector.constants import s_decimal_NaN
from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_account_messages as messages,
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_markets as markets,
    extended_perpetual_signer as signer,
    extended_perpetual_utils as utils,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_api_order_book_data_source import (
    ExtendedPerpetualAPIOrderBookDataSource,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_auth import ExtendedPerpetualAuth
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_user_stream_data_source import (
    ExtendedPerpetualUserStreamDataSource,
)
from hummingbot.connector.derivative.position import Position
from hummingbot.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.connector.utils import combine_to_hb_trading_pair
from hummingbot.core.api_throttler.data_types import RateLimit
from hummingbot.core.data_type.common import OrderType, PositionAction, PositionMode, PositionSide, TradeType
from hummingbot.core.data_type.funding_info import FundingInfoUpdate
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, OrderUpdate, TradeUpdate
from hummingbot.core.data_type.trade_fee import AddedToCostTradeFee, TokenAmount, TradeFeeBase
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.core.utils.async_utils import safe_ensure_future, safe_gather
from hummingbot.core.web_assistant.connections.data_types import RESTMethod
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

DAY_MS = 24 * 60 * 60 * 1000
IOC_EXPIRY_MS = 60 * 60 * 1000
_NONCE_BATCH = 256  # nonces drawn per system call
_RECENT_NONCES_LIMIT = 100_000  # nonces remembered (never reused) before the memory starts afresh
# the order path's enum members and wire values, bound once (module names: one lookup each on the hot path)
_BUY, _MARKET, _LIMIT_MAKER, _CLOSE = TradeType.BUY, OrderType.MARKET, OrderType.LIMIT_MAKER, PositionAction.CLOSE
_ACTIVE = CONSTANTS.MARKET_STATUS_ACTIVE
_LIMIT_WIRE = (CONSTANTS.ORDER_TYPE_LIMIT, CONSTANTS.TIME_IN_FORCE_GTT)
_MARKET_WIRE = (CONSTANTS.ORDER_TYPE_MARKET, CONSTANTS.TIME_IN_FORCE_IOC)
TRADES_REQUEST_LIMIT = 200
TRADES_MAX_PAGES = 10  # trades read back at most (x TRADES_REQUEST_LIMIT) when recovering fills
FUNDING_LOOKBACK_MS = 24 * 60 * 60 * 1000
FUNDING_PAYMENT_POLL_DELAY = 5.0  # seconds after a funding, for the payment to be booked before it is read
RATE_LIMIT_BACKOFF_INITIAL = 1.0
RATE_LIMIT_BACKOFF_MAX = 60.0
_STREAM_FILL_GRACE_SECONDS = 3.0
# A reconciliation part that failed is retried after these pauses: with a live stream the status polling runs only
# every LONG_POLL_INTERVAL (2 min), so a fill lost with a socket would otherwise stay missing that long.
RECONCILE_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
# A failed status poll (4 requests) or trading-rules refresh is retried by Hummingbot every 0.5 s: while Extended is
# unreachable or failing, the retries are spaced by a growing pause instead (1 s doubling up to 30 s).
STATUS_POLL_RETRY_INITIAL = 1.0
# An order POST without an answer is looked up by its external id after these pauses; still unknown after the last
# one (Hummingbot's not-found limit is reached), it fails, instead of waiting minutes for the long status polls.
UNANSWERED_ORDER_LOOKUP_DELAYS = (1.0, 2.0, 4.0, 8.0)
STATUS_POLL_RETRY_MAX = 30.0
BALANCE_ITEM = "balance"  # the account's balance, as an item of the stream's precedence (positions: their pair)
STATUS_REJECTED = "REJECTED"
STATUSES_WITH_REASON = frozenset({STATUS_REJECTED, "CANCELLED", "EXPIRED"})


class _FundingUpdateWatch:
    """Forwards funding-info updates to Hummingbot's queue; calls back on those announcing an applied funding."""

    def __init__(self, queue: asyncio.Queue, on_funding_applied):
        self._queue = queue
        self._on_funding_applied = on_funding_applied

    def put_nowait(self, update: FundingInfoUpdate):
        self._queue.put_nowait(update)
        if update.next_funding_utc_timestamp is not None:
            self._on_funding_applied()

    async def put(self, update: FundingInfoUpdate):
        self.put_nowait(update)


@dataclass(frozen=True)
class MarketSpec:
    """What the order path needs about one market, built once per trading-rules refresh."""

    market: markets.ExtendedMarket
    signing: signer.SigningMarket
    order_signer: Optional[signer.OrderSigner] = None  # None without Stark credentials

    @property
    def symbol(self) -> str:
        return self.market.name


class ExtendedPerpetualDerivative(PerpetualDerivativePyBase):
    web_utils = web_utils

    SHORT_POLL_INTERVAL = 5.0
    LONG_POLL_INTERVAL = 120.0
    TRADING_FEES_INTERVAL = 60 * 60.0  # fee rates and leverage are refreshed hourly
    STREAM_HEALTH_SECONDS = 60.0  # a stream that got a message (data or ping) this recently proves the network up

    def __init__(
        self,
        extended_perpetual_api_key: str = "",
        extended_perpetual_stark_private_key: str = "",
        extended_perpetual_stark_public_key: str = "",
        extended_perpetual_vault_id: str = "",
        extended_perpetual_limit_order_expiry_days: Optional[int] = None,
        extended_perpetual_market_order_slippage: Decimal = Decimal(CONSTANTS.DEFAULT_MARKET_ORDER_SLIPPAGE),
        trading_pairs: Optional[List[str]] = None,
        trading_required: bool = True,
        domain: str = CONSTANTS.DEFAULT_DOMAIN,
        balance_asset_limit: Optional[Dict[str, Dict[str, Decimal]]] = None,
        rate_limits_share_pct: Decimal = Decimal("100"),
    ):
        if domain not in CONSTANTS.DOMAINS:
            raise ValueError(f"domain must be one of {CONSTANTS.DOMAINS}")
        self._domain = domain
        self._trading_required = trading_required
        self._trading_pairs = trading_pairs or []
        self._credentials = self._parse_credentials(
            extended_perpetual_api_key, extended_perpetual_stark_private_key,
            extended_perpetual_stark_public_key, extended_perpetual_vault_id)
        self._stark_account = self._stark_account_from(self._credentials)
        self._signing_domain = signer.signing_domain_for(domain)
        self._expiry_days = self._parse_expiry_days(extended_perpetual_limit_order_expiry_days)
        self._market_order_slippage = utils.parse_slippage(
            extended_perpetual_market_order_slippage, f"{domain}_{utils.SLIPPAGE_SUFFIX}")
        self._market_specs: Dict[str, MarketSpec] = {}
        self._symbol_map: Optional[Any] = None
        self._pairs_of_all_markets: Dict[str, str] = {}
        self._fee_rates: Dict[str, messages.MarketFees] = {}
        self._open_orders_by_market: Dict[str, Set[str]] = {}
        self._nonce_rng = random.SystemRandom()
        self._nonce_pool: List[int] = []
        self._recent_nonces: Set[int] = set()
        self._rate_limit_backoff = 0.0
        self._rate_limited_until = 0.0
        self._funding_from_ms: Optional[int] = None
        self._funding_poll_due: Optional[float] = None
        self._reconcile_task: Optional[asyncio.Task] = None
        self._status_poll_failures = 0
        # Precedence of the stream: updates are numbered; a REST answer is dropped for an item (the balance, a pair's
        # position) that the stream updated after the request started.
        self._stream_updates = 0
        self._last_stream_update: Dict[str, int] = {}
        self.real_time_balance_update = True
        super().__init__(balance_asset_limit=balance_asset_limit, rate_limits_share_pct=rate_limits_share_pct)

    # ------------------------------------------------------------------------------------------ configuration
    def _parse_credentials(self, api_key: Any, private_key: Any, public_key: Any,
                           vault: Any) -> Optional[utils.ExtendedCredentials]:
        given = any(str(value or "").strip() for value in (api_key, private_key, public_key, vault))
        if not given and not self._trading_required:
            return None
        return utils.ExtendedCredentials.parse(api_key, private_key, public_key, vault, prefix=self._domain)

    @staticmethod
    def _stark_account_from(credentials: Optional[utils.ExtendedCredentials]) -> Optional[signer.StarkAccount]:
        if credentials is None:
            return None
        return signer.StarkAccount(vault=credentials.vault_id, public_key=credentials.stark_public_key,
                                   private_key=credentials.stark_private_key)

    def _parse_expiry_days(self, value: Any) -> int:
        max_days = CONSTANTS.MAX_ORDER_EXPIRY_DAYS[self._domain]
        days = utils.parse_expiry_days(value, f"{self._domain}_{utils.EXPIRY_DAYS_SUFFIX}", max_days)
        return max_days - 1 if days is None else days

    def __repr__(self) -> str:
        return f"{type(self).__name__}(domain={self._domain!r}, trading_pairs={self._trading_pairs!r})"

    @property
    def name(self) -> str:
        return self._domain

    @property
    def authenticator(self) -> ExtendedPerpetualAuth:
        return ExtendedPerpetualAuth(self._credentials.api_key if self._credentials else "")

    @property
    def rate_limits_rules(self) -> List[RateLimit]:
        return CONSTANTS.RATE_LIMITS

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def client_order_id_max_length(self) -> int:
        return CONSTANTS.MAX_ORDER_ID_LEN

    @property
    def client_order_id_prefix(self) -> str:
        return CONSTANTS.HBOT_ORDER_ID_PREFIX

    @property
    def trading_rules_request_path(self) -> str:
        return CONSTANTS.MARKETS_PATH_URL

    @property
    def trading_pairs_request_path(self) -> str:
        return CONSTANTS.MARKETS_PATH_URL

    @property
    def check_network_request_path(self) -> str:
        return CONSTANTS.MARKETS_PATH_URL

    @property
    def trading_pairs(self) -> List[str]:
        return self._trading_pairs

    @property
    def is_cancel_request_in_exchange_synchronous(self) -> bool:
        return False

    @property
    def is_trading_required(self) -> bool:
        return self._trading_required

    @property
    def funding_fee_poll_interval(self) -> int:
        return CONSTANTS.FUNDING_INTERVAL_SECONDS

    @property
    def limit_order_expiry_days(self) -> int:
        return self._expiry_days

    def supported_order_types(self) -> List[OrderType]:
        return [OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET]

    def supported_position_modes(self) -> List[PositionMode]:
        return [PositionMode.ONEWAY]

    def get_buy_collateral_token(self, trading_pair: str) -> str:
        return self._collateral_of(trading_pair)

    def get_sell_collateral_token(self, trading_pair: str) -> str:
        return self._collateral_of(trading_pair)

    def _collateral_of(self, trading_pair: str) -> str:
        spec = self._market_specs.get(trading_pair)
        if spec is not None:
            return spec.market.collateral_asset_name
        rule = self._trading_rules.get(trading_pair)
        if rule is not None and rule.buy_order_collateral_token:
            return rule.buy_order_collateral_token
        return trading_pair.split("-")[-1]

    def _default_collateral(self) -> str:
        for spec in self._market_specs.values():
            return spec.market.collateral_asset_name
        return self._collateral_of(self._trading_pairs[0]) if self._trading_pairs else "USD"

    # ------------------------------------------------------------------------------------------ factories
    def _create_web_assistants_factory(self) -> WebAssistantsFactory:
        return web_utils.build_api_factory(throttler=self._throttler, auth=self._auth)

    def _create_order_book_data_source(self) -> ExtendedPerpetualAPIOrderBookDataSource:
        return ExtendedPerpetualAPIOrderBookDataSource(
            trading_pairs=self._trading_pairs, connector=self,
            api_factory=self._web_assistants_factory, domain=self._domain)

    def _create_user_stream_data_source(self) -> ExtendedPerpetualUserStreamDataSource:
        return ExtendedPerpetualUserStreamDataSource(
            auth=self._auth, trading_pairs=self._trading_pairs, connector=self,
            api_factory=self._web_assistants_factory, domain=self._domain)

    async def start_network(self):
        urls = web_utils.base_urls(self._domain)
        if urls.overridden:
            self.logger().warning(f"{CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR} is set: Extended requests go to "
                                  f"{urls.rest} and {urls.stream} instead of the {self._domain} servers.")
        await super().start_network()

    async def stop_network(self):
        """As the base classes, also stopping the reconciliation and the funding-payment loop (Hummingbot's
        perpetual base leaves that loop running: every network restart would add one more)."""
        for task in (self._reconcile_task, self._funding_fee_polling_task):
            if task is not None:
                task.cancel()
        self._reconcile_task = self._funding_fee_polling_task = None
        await super().stop_network()

    async def _update_time_synchronizer(self, pass_on_non_cancelled_error: bool = False):
        """Extended has no server-time endpoint: the local clock is used and no time request is sent."""

    def _is_request_exception_related_to_time_synchronizer(self, request_exception: Exception) -> bool:
        return False

    def _is_order_not_found_during_status_update_error(self, status_update_exception: Exception) -> bool:
        return isinstance(status_update_exception, messages.ExtendedAPIError) and status_update_exception.is_not_found

    def _is_order_not_found_during_cancelation_error(self, cancelation_exception: Exception) -> bool:
        return isinstance(cancelation_exception, messages.ExtendedAPIError) and cancelation_exception.is_not_found

    # ------------------------------------------------------------------------------------------ REST access
    async def _api_request(self, path_url, overwrite_url: Optional[str] = None, method: RESTMethod = RESTMethod.GET,
                           params: Optional[Any] = None, data: Optional[Dict[str, Any]] = None,
                           is_auth_required: bool = False, return_err: bool = False,
                           limit_id: Optional[str] = None, headers: Optional[Dict[str, Any]] = None,
                           **kwargs) -> Any:
        """One request; errors raise ExtendedAPIError with the documented meaning; 429 starts a back-off."""
        await self._wait_for_rate_limit_backoff()
        rest_assistant = await self._web_assistants_factory.get_rest_assistant()
        url = overwrite_url or await self._api_request_url(path_url=path_url, is_auth_required=is_auth_required)
        response = await rest_assistant.execute_request_and_get_response(
            url=url, params=params, data=data, method=method, is_auth_required=is_auth_required,
            return_err=True, throttler_limit_id=limit_id or path_url, headers=headers)
        body = await self._response_body(response)
        error = messages.error_from_response(response.status, body)
        self._note_rate_limit(error)
        if error is not None and not return_err:
            raise error
        return body

    @staticmethod
    async def _response_body(response) -> Any:
        text = await response.text()
        try:
            return json.loads(text) if text else {}
        except ValueError:
            return text

    def _note_rate_limit(self, error: Optional[messages.ExtendedAPIError]):
        """A success ends the back-off; each 429 in a row doubles it (1 s up to 60 s); other errors leave it."""
        if error is None:
            self._rate_limit_backoff = 0.0
        elif self._is_rate_limit_error(error):
            self._rate_limit_backoff = min(max(self._rate_limit_backoff * 2, RATE_LIMIT_BACKOFF_INITIAL),
                                           RATE_LIMIT_BACKOFF_MAX)
            self._rate_limited_until = self._time() + self._rate_limit_backoff
            self.logger().warning(f"Extended rate limit reached (HTTP 429): pausing requests for "
                                  f"{self._rate_limit_backoff:.0f} s.")

    @staticmethod
    def _is_rate_limit_error(exception: Exception) -> bool:
        return isinstance(exception, messages.ExtendedAPIError) and exception.is_rate_limited

    async def _wait_for_rate_limit_backoff(self):
        remaining = self._rate_limited_until - self._time()
        if remaining > 0:
            await self._sleep(remaining)

    async def _private_get(self, path_url: str, params: Optional[Any] = None, limit_id: Optional[str] = None) -> Any:
        body = await self._api_get(path_url=path_url, params=params, is_auth_required=True, limit_id=limit_id)
        return messages.response_data(body)

    # ------------------------------------------------------------------------------------------ markets
    def _initialize_trading_pair_symbols_from_exchange_info(self, exchange_info: Any):
        all_markets = markets.parse_markets(exchange_info)
        # every market, tradable or not: a position or order in a market that stopped trading is still ours
        self._pairs_of_all_markets = {market.name: market.trading_pair for market in all_markets}
        self._set_trading_pair_symbol_map(markets.symbol_map_from_markets(all_markets))

    async def _trading_rules_polling_loop(self):
        """As the base class (every TRADING_RULES_INTERVAL), with failures retried after a growing pause."""
        failures = 0
        while True:
            try:
                await self._update_trading_rules()
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                pause = _retry_pause(failures)
                self.logger().network(f"Unexpected error while fetching trading rules; retrying in {pause:g} s.",
                                      exc_info=True, app_warning_msg=f"Could not fetch new trading rules from "
                                                                     f"{self.name_cap}. Check network connection.")
                await self._sleep(pause)
                continue
            failures = 0
            await self._sleep(self.TRADING_RULES_INTERVAL)

    async def _format_trading_rules(self, exchange_info_dict: Any) -> List[TradingRule]:
        """Trading rules and the per-market order specs (market limits + signing constants), built once."""
        items = markets.response_data(exchange_info_dict)
        rules, specs = [], {}
        for item in items if isinstance(items, list) else []:
            try:
                market = markets.parse_market(item)
                if not market.is_tradable:
                    continue
                specs[market.trading_pair] = self._market_spec_from(market, signer.SigningMarket.from_api(item))
                rules.append(markets.trading_rule_from_market(market, market.trading_pair))
            except Exception:
                self.logger().error(f"Error parsing the trading pair rule {item}. Skipping.")
        self._market_specs = specs
        return rules

    def _market_spec_from(self, market: markets.ExtendedMarket, signing: signer.SigningMarket) -> MarketSpec:
        order_signer = None
        if self._stark_account is not None:
            order_signer = signer.OrderSigner(self._stark_account, self._signing_domain, signing)
        return MarketSpec(market=market, signing=signing, order_signer=order_signer)

    async def get_last_traded_prices(self, trading_pairs: List[str]) -> Dict[str, float]:
        """From the streams; one shared ``/info/markets`` answer for the pairs they cannot price (the data source)."""
        return await self._orderbook_ds.get_last_traded_prices(trading_pairs=trading_pairs)

    async def _get_last_traded_price(self, trading_pair: str) -> float:
        return (await self.get_last_traded_prices([trading_pair]))[trading_pair]

    async def _make_network_check_request(self):
        await self._api_get(path_url=self.check_network_request_path)

    async def check_network(self) -> NetworkStatus:
        """CONNECTED without a request while the streams are healthy; else Hummingbot's check (a ``/info/markets``
        request: NOT_CONNECTED if it fails). Hummingbot runs it every 10 s: ~6 requests a minute saved."""
        if self._streams_recently_heard():
            return NetworkStatus.CONNECTED
        return await super().check_network()

    def _streams_recently_heard(self) -> bool:
        """A message (data or the exchange's 15 s ping) within ``STREAM_HEALTH_SECONDS`` on the public streams, or on
        the account stream when trading is required. Before the streams start, there is none."""
        last_message = self._orderbook_ds.last_recv_time
        if self.is_trading_required and self._user_stream_tracker is not None:
            last_message = max(last_message, self._user_stream_tracker.last_recv_time)
        return last_message > 0 and self._time() - last_message < self.STREAM_HEALTH_SECONDS

    # ------------------------------------------------------------------------------------------ fees / leverage
    async def _update_trading_fees(self):
        """Fee rates and leverage of every market, cached for the order path (one request each)."""
        await self.trading_pair_symbol_map()
        await safe_gather(self._update_fee_rates(), self._update_leverages())

    def _market_params(self, trading_pairs: List[str]) -> List[Tuple[str, str]]:
        symbols = [self._symbol_for(pair) for pair in trading_pairs]
        return [("market", symbol) for symbol in symbols if symbol is not None]

    def _symbol_for(self, trading_pair: str) -> Optional[str]:
        spec = self._market_specs.get(trading_pair)
        if spec is not None:
            return spec.symbol
        return self._symbol_map.inverse.get(trading_pair) if self._symbol_map else None

    def _pair_for(self, symbol: str) -> Optional[str]:
        """The pair of a market name, the market tradable or not (a DISABLED market's position stays reported)."""
        pair = self._symbol_map.get(symbol) if self._symbol_map else None
        return pair if pair is not None else self._pairs_of_all_markets.get(symbol)

    def _set_trading_pair_symbol_map(self, trading_pair_and_symbol_map: Optional[Any]):
        """Kept here too, for the synchronous lookups of the stream handlers."""
        self._symbol_map = trading_pair_and_symbol_map
        super()._set_trading_pair_symbol_map(trading_pair_and_symbol_map)

    async def _update_fee_rates(self):
        try:
            data = await self._private_get(CONSTANTS.FEES_PATH_URL, params=self._market_params(self._trading_pairs))
            self._fee_rates.update({fees.market: fees for fees in messages.parse_list(data, messages.parse_fees)})
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().warning(f"Could not read the Extended fee rates ({error}); using the default fees.")

    async def _update_leverages(self):
        try:
            data = await self._private_get(CONSTANTS.LEVERAGE_PATH_URL, params=self._market_params(self._trading_pairs))
            for item in messages.parse_list(data, messages.parse_leverage):
                pair = self._pair_for(item.market)
                if pair is not None:
                    self._perpetual_trading.set_leverage(pair, int(item.leverage))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().warning(f"Could not read the Extended leverage settings ({error}).")

    def _fee_rate(self, trading_pair: str, is_maker: bool) -> Decimal:
        symbol = self._symbol_for(trading_pair)
        return self._fee_rate_of(self._fee_rates.get(symbol) if symbol else None, is_maker)

    @staticmethod
    def _fee_rate_of(fees: Optional[messages.MarketFees], is_maker: bool) -> Decimal:
        """The account's rate in a market (from ``/user/fees``), else Hummingbot's configured default."""
        if fees is not None:
            return fees.maker if is_maker else fees.taker
        defaults = utils.DEFAULT_FEES
        return defaults.maker_percent_fee_decimal if is_maker else defaults.taker_percent_fee_decimal

    def _get_fee(self, base_currency: str, quote_currency: str, order_type: OrderType, order_side: TradeType,
                 position_action: PositionAction, amount: Decimal, price: Decimal = s_decimal_NaN,
                 is_maker: Optional[bool] = None) -> TradeFeeBase:
        is_maker = order_type is OrderType.LIMIT_MAKER if is_maker is None else is_maker
        pair = combine_to_hb_trading_pair(base_currency, quote_currency)
        return AddedToCostTradeFee(percent=self._fee_rate(pair, is_maker), percent_token=self._collateral_of(pair))

    async def _set_trading_pair_leverage(self, trading_pair: str, leverage: int) -> Tuple[bool, str]:
        try:
            symbol = self._symbol_for(trading_pair) or await self.exchange_symbol_associated_to_pair(trading_pair)
            await self._api_request(path_url=CONSTANTS.LEVERAGE_PATH_URL, method=RESTMethod.PATCH,
                                    data={"market": symbol, "leverage": str(leverage)}, is_auth_required=True)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            return False, str(error)
        return True, ""

    async def _trading_pair_position_mode_set(self, mode: PositionMode, trading_pair: str) -> Tuple[bool, str]:
        if mode != PositionMode.ONEWAY:
            return False, "Extended supports only the ONEWAY position mode."
        return True, ""

    async def _fetch_account_position_mode(self) -> Optional[PositionMode]:
        return PositionMode.ONEWAY

    # ------------------------------------------------------------------------------------------ orders
    async def _create_order(self, trade_type: TradeType, order_id: str, trading_pair: str, amount: Decimal,
                            order_type: OrderType, price: Optional[Decimal] = None,
                            position_action: PositionAction = PositionAction.NIL, **kwargs):
        """Orders Hummingbot's base class would drop silently (an unmapped position action, a market order with
        nothing to price it) end in a failure event instead."""
        refusal = self._refusal_before_creation(trading_pair, trade_type, order_type, position_action)
        if refusal is not None:
            self.start_tracking_order(order_id=order_id, exchange_order_id=None, trading_pair=trading_pair,
                                      trade_type=trade_type, price=price, amount=amount, order_type=order_type,
                                      position_action=position_action)
            self._update_order_after_failure(order_id, trading_pair, ValueError(refusal))
            return
        await super()._create_order(trade_type, order_id, trading_pair, amount, order_type, price,
                                    position_action=position_action, **kwargs)

    def _refusal_before_creation(self, trading_pair: str, trade_type: TradeType, order_type: OrderType,
                                 position_action: PositionAction) -> Optional[str]:
        if position_action not in self.VALID_POSITION_ACTIONS:
            return f"Position action {position_action} cannot be placed on Extended: use OPEN or CLOSE."
        if order_type == OrderType.MARKET and trading_pair in self._market_specs:
            try:
                self._market_order_price(self._market_specs[trading_pair], trade_type)
            except ValueError as error:
                return str(error)
        return None

    def _on_order_failure(self, order_id: str, trading_pair: str, amount: Decimal, trade_type: TradeType,
                          order_type: OrderType, price: Optional[Decimal], exception: Exception, **kwargs):
        """An answer from Extended (or a local refusal) fails the order; a lost answer (timeout, dropped
        connection, or a 5xx from the server or a proxy, after which the order may still have been accepted) does
        not: the order may exist, so it stays tracked and is looked up by its external id a few times within
        seconds (it becomes a failure only after repeated "not found")."""
        if self._is_definite_refusal(exception):
            super()._on_order_failure(order_id, trading_pair, amount, trade_type, order_type, price, exception,
                                      **kwargs)
            return
        self.logger().warning(f"No answer from Extended for order {order_id} ({type(exception).__name__}); it may "
                              f"have been created: its status will be checked by its external id.")
        safe_ensure_future(self._look_up_unanswered_order(order_id))

    @staticmethod
    def _is_definite_refusal(exception: Exception) -> bool:
        """Extended's own error (not a 5xx) or a local refusal. An answer that cannot be read (a truncated body, a
        proxy's page) is no refusal: the order may have been created."""
        if isinstance(exception, messages.ExtendedAPIError):
            return not exception.is_server_error
        return isinstance(exception, ValueError) and not isinstance(exception, messages.MalformedMessageError)

    async def _handle_update_error_for_active_order(self, order: InFlightOrder, error: Exception):
        """Only Extended's "not found" counts towards declaring an order lost (Hummingbot's handler counts any error):
        a timeout or a 5xx while Extended is degraded says nothing about the order, which is asked again later."""
        if self._is_order_not_found_during_status_update_error(error):
            await self._order_tracker.process_order_not_found(order.client_order_id)
        else:
            self.logger().warning(f"Error fetching status update for the active order {order.client_order_id}: "
                                  f"{error!r}. It is asked again at the next status update.")

    async def _look_up_unanswered_order(self, order_id: str):
        for delay in UNANSWERED_ORDER_LOOKUP_DELAYS:
            await self._sleep(delay)
            order = self._order_tracker.all_updatable_orders.get(order_id)
            if order is None or order.is_done or order.exchange_order_id is not None:
                return  # resolved meanwhile (stream, reconciliation or an earlier look-up)
            await self._update_orders_with_error_handler([order], self._handle_update_error_for_active_order)

    async def _place_order(self, order_id: str, trading_pair: str, amount: Decimal, trade_type: TradeType,
                           order_type: OrderType, price: Decimal, position_action: PositionAction = PositionAction.NIL,
                           **kwargs) -> Tuple[str, float]:
        self._refuse_while_rate_limited()
        body = self._signed_order_body(order_id, trading_pair, amount, trade_type, order_type, price, position_action)
        response = await self._api_post(path_url=CONSTANTS.ORDER_PATH_URL, data=body, is_auth_required=True)
        data = messages.response_data(response)
        return str(data["id"]), self._time()

    def _refuse_while_rate_limited(self):
        """An order is not held back for the whole back-off (its price would be stale): it fails at once."""
        remaining = self._rate_limited_until - self._time()
        if remaining > 0:
            raise ValueError(f"Extended rate limit back-off in progress ({remaining:.0f} s left): the order was not "
                             f"sent.")

    def _signed_order_body(self, order_id: str, trading_pair: str, amount: Decimal, trade_type: TradeType,
                           order_type: OrderType, price: Decimal, position_action: PositionAction) -> Dict[str, Any]:
        """Check the local limits, then price, sign and build the POST body. Pure: no I/O.

        Every order goes through here right after (or before) 400 us of Rust signing that leaves the caches cold:
        measured in place, each Python call costs microseconds. So the common cases are inline and the rare ones
        are calls that check again in full: a market not ACTIVE or near its open-order limit
        (``_check_local_limits``), no fee rate of the account's yet (``_fee_rate_of``), an empty nonce pool, a
        nonce drawn recently or a full memory of them (``_draw_nonce``)."""
        spec = self._market_specs.get(trading_pair) or self._market_spec(trading_pair)
        order_signer, market = spec.order_signer, spec.market
        if order_signer is None:
            raise ValueError("Extended credentials are not configured: orders cannot be signed.")
        # On a REDUCE_ONLY market, an order that reduces the position is sent reduce-only whatever its position action:
        # in ONEWAY mode Hummingbot's executors close positions with OPEN orders of the opposite side.
        reduce_only = position_action is _CLOSE or (market.reduce_only
                                                    and self._reduces_position(trading_pair, trade_type, amount))
        if order_type is _MARKET:
            price = self._market_order_price(spec, trade_type)
            (wire_type, time_in_force), expiry_ms = _MARKET_WIRE, IOC_EXPIRY_MS
        else:
            (wire_type, time_in_force), expiry_ms = _LIMIT_WIRE, self._expiry_days * DAY_MS
        if (market.status != _ACTIVE or not market.active or market.max_num_orders <= len(
                self._open_orders_by_market.get(market.name, ())) + len(self._order_tracker.active_orders)):
            self._check_local_limits(order_id, spec, reduce_only)
        post_only = order_type is _LIMIT_MAKER
        fees = self._fee_rates.get(market.name)
        fee_rate = self._fee_rate_of(fees, post_only) if fees is None else fees.maker if post_only else fees.taker
        pool, recent = self._nonce_pool, self._recent_nonces
        nonce = pool.pop() if pool else 0
        if not nonce or nonce in recent or len(recent) >= _RECENT_NONCES_LIMIT:
            nonce = self._draw_nonce()
        else:
            recent.add(nonce)
        now_ms = int(self._time() * 1000)
        return order_signer.order_body(
            order_id, CONSTANTS.SIDE_BUY if trade_type is _BUY else CONSTANTS.SIDE_SELL, wire_type, amount, price,
            fee_rate, now_ms + expiry_ms, nonce, now_ms, time_in_force, post_only, reduce_only,
            CONSTANTS.SELF_TRADE_PROTECTION_ACCOUNT)

    def _market_spec(self, trading_pair: str) -> MarketSpec:
        spec = self._market_specs.get(trading_pair)
        if spec is None:
            raise ValueError(f"No Extended market data for {trading_pair} yet: the order was not sent.")
        return spec

    def _draw_nonce(self) -> int:
        """A nonce uniform in [1, 2^31] from the OS CSPRNG, never one of the recent ones. Drawn in batches: one
        system call per ``_NONCE_BATCH`` orders instead of about two per order (31 of 32 random bits, plus one)."""
        pool = self._nonce_pool
        while True:
            if not pool:
                words = memoryview(self._nonce_rng.randbytes(4 * _NONCE_BATCH)).cast("I")
                pool.extend((word & 0x7FFFFFFF) + 1 for word in words)
            nonce = pool.pop()  # in [1, 2^31] by construction (the signer checks it again)
            if nonce not in self._recent_nonces:
                break
        if len(self._recent_nonces) >= _RECENT_NONCES_LIMIT:
            self._recent_nonces.clear()
        self._recent_nonces.add(nonce)
        return nonce

    def _market_order_price(self, spec: MarketSpec, trade_type: TradeType) -> Decimal:
        """Best opposite price moved by the slippage, bounded by mark +-5%, on the tick (buy up, sell down)."""
        is_buy = trade_type == TradeType.BUY
        try:
            best = Decimal(str(self.get_order_book(spec.market.trading_pair).get_price(is_buy)))
        except Exception:
            best = Decimal("NaN")
        if not best.is_finite() or best <= 0:
            raise ValueError(f"No {'ask' if is_buy else 'bid'} in the {spec.market.trading_pair} order book: "
                             f"the market order cannot be priced.")
        mark = self._mark_price(spec.market.trading_pair)
        bound = Decimal(CONSTANTS.MARKET_ORDER_MAX_DEVIATION_FROM_MARK)
        tick = spec.market.min_price_change
        if is_buy:
            price = _to_tick(best * (1 + self._market_order_slippage), tick, ROUND_CEILING)
            return min(price, _to_tick(mark * (1 + bound), tick, ROUND_FLOOR))
        price = _to_tick(best * (1 - self._market_order_slippage), tick, ROUND_FLOOR)
        return max(price, _to_tick(mark * (1 - bound), tick, ROUND_CEILING))

    def _mark_price(self, trading_pair: str) -> Decimal:
        try:
            mark = Decimal(str(self.get_funding_info(trading_pair).mark_price))
        except Exception:
            mark = Decimal("NaN")
        if not mark.is_finite() or mark <= 0:
            raise ValueError(f"The {trading_pair} mark price is unknown: the market order cannot be bounded.")
        return mark

    def _reduces_position(self, trading_pair: str, trade_type: TradeType, amount: Decimal) -> bool:
        """Whether the order only reduces the pair's position (opposite side, not larger than the position)."""
        held = sum((position.amount for position in self.account_positions.values()
                    if position.trading_pair == trading_pair), Decimal("0"))
        signed_amount = amount if trade_type == TradeType.BUY else -amount
        return held * signed_amount < 0 and amount <= abs(held)

    def _check_local_limits(self, order_id: str, spec: MarketSpec, reduce_only: bool):
        """The market's status and its open-order limit (the signer checks the order itself against the market)."""
        market = spec.market
        if market.status != CONSTANTS.MARKET_STATUS_ACTIVE or not market.active:
            if not market.is_tradable:
                raise ValueError(f"The {market.name} market is {market.status}: no order can be placed.")
            if market.reduce_only and not reduce_only:
                raise ValueError(f"The {market.name} market is REDUCE_ONLY: only orders closing a position are "
                                 f"accepted.")
        limit = market.max_num_orders
        # The count is at most (listed + tracked): only near the limit are they counted one by one.
        if len(self._open_orders_by_market.get(market.name, ())) + len(self._order_tracker.active_orders) >= limit \
                and self._open_order_count(market, excluding=order_id) >= limit:
            raise ValueError(f"{market.name} already has {market.max_num_orders} open orders (Extended's limit per "
                             f"market): the order was not sent.")

    def _open_order_count(self, market: markets.ExtendedMarket, excluding: str) -> int:
        """Open orders of the account in the market: those the stream / REST listed, plus ours in flight."""
        known = set(self._open_orders_by_market.get(market.name, set()))
        for order in self._order_tracker.active_orders.values():
            if order.trading_pair == market.trading_pair and order.client_order_id != excluding and not order.is_done:
                known.add(order.exchange_order_id or order.client_order_id)
        return len(known)

    async def _place_cancel(self, order_id: str, tracked_order: InFlightOrder) -> bool:
        """Cancel one order by its external id (the client order id). Extended cancels asynchronously.

        "Not found" usually means the order is no longer open (filled, cancelled or expired while the stream was
        away): it is looked up instead of being counted towards "lost" as Hummingbot's cancel handling would (only
        the look-up's own "not found" counts)."""
        try:
            await self._api_delete(path_url=CONSTANTS.ORDER_PATH_URL, params={"externalId": order_id},
                                   is_auth_required=True)
        except messages.ExtendedAPIError as error:
            if not error.is_not_found:
                raise
            self.logger().info(f"Extended has no open order {order_id} to cancel: looking its status up.")
            await self._update_orders_with_error_handler([tracked_order], self._handle_update_error_for_active_order)
            return False
        return True

    # ------------------------------------------------------------------------------------------ REST status
    async def _status_polling_loop_fetch_updates(self):
        """As the base class; a failed poll first waits a growing pause, so that the base class's immediate retry
        (every 0.5 s) does not hammer an unreachable or failing Extended."""
        try:
            await super()._status_polling_loop_fetch_updates()
        except asyncio.CancelledError:
            raise
        except Exception:
            self._status_poll_failures += 1
            pause = _retry_pause(self._status_poll_failures)
            self.logger().warning(f"The Extended status poll failed ({self._status_poll_failures} in a row); "
                                  f"retrying in {pause:g} s.")
            await self._sleep(pause)
            raise
        self._status_poll_failures = 0

    async def _update_balances(self):
        started = self._stream_updates
        try:
            balance = messages.parse_balance(await self._private_get(CONSTANTS.BALANCE_PATH_URL))
            collateral, total, available = balance.collateral, balance.equity, balance.available_for_trade
        except messages.ExtendedAPIError as error:
            if not error.is_not_found:
                raise
            collateral, total, available = self._default_collateral(), Decimal("0"), Decimal("0")  # 404: zero
        if not self._streamed_since(BALANCE_ITEM, started):
            self._set_balance(collateral, total, available)

    def _set_balance(self, collateral: str, total: Decimal, available: Decimal):
        for asset in [asset for asset in self._account_balances if asset != collateral]:
            self._account_balances.pop(asset, None)
            self._account_available_balances.pop(asset, None)
        self._account_balances[collateral] = total
        self._account_available_balances[collateral] = available

    async def _update_positions(self):
        started = self._stream_updates
        data = await self._private_get(CONSTANTS.POSITIONS_PATH_URL)
        self._apply_positions(messages.parse_list(data, messages.parse_position), is_snapshot=True,
                              rest_request_started=started)

    def _apply_positions(self, positions: List[messages.AccountPosition], is_snapshot: bool,
                         rest_request_started: Optional[int] = None):
        """Sets the positions (a snapshot removes those it lacks). From REST (``rest_request_started``), a pair the
        stream updated after the request started is left as the stream made it."""
        def is_stale(pair: str) -> bool:
            return rest_request_started is not None and self._streamed_since(pair, rest_request_started)

        seen = set()
        for position in positions:
            pair = self._pair_for(position.market)
            if pair is None or is_stale(pair):
                continue
            key = self._perpetual_trading.position_key(pair, self._position_side(position))
            seen.add(key)
            if position.is_closed:
                self._perpetual_trading.remove_position(key)
                continue
            if position.leverage >= 1:
                self._perpetual_trading.set_leverage(pair, int(position.leverage))
            self._perpetual_trading.set_position(key, Position(
                trading_pair=pair, position_side=self._position_side(position),
                unrealized_pnl=position.unrealised_pnl, entry_price=position.open_price,
                amount=position.signed_size, leverage=position.leverage))
        if is_snapshot:
            for key, position in list(self.account_positions.items()):
                if key not in seen and not is_stale(position.trading_pair):
                    self._perpetual_trading.remove_position(key)

    @staticmethod
    def _position_side(position: messages.AccountPosition) -> PositionSide:
        return PositionSide.SHORT if position.side == CONSTANTS.POSITION_SIDE_SHORT else PositionSide.LONG

    async def _update_orders(self) -> bool:
        """One open-orders request for all tracked orders; only the orders absent from it are looked up.
        False when the open orders could not be read."""
        orders = list(self.in_flight_orders.values())
        if not orders:
            return True
        try:
            params = self._market_params(sorted({order.trading_pair for order in orders}))
            data = await self._private_get(CONSTANTS.OPEN_ORDERS_PATH_URL, params=params)
            open_items = messages.parse_list(data, messages.parse_order)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().warning(f"Could not read the open orders from Extended ({error}); retrying next poll.")
            return False
        self._remember_open_orders(open_items, snapshot_of={s for _, s in params} or set(self._open_orders_by_market))
        by_external_id = {item.external_id: item for item in open_items}
        missing = []
        for order in orders:
            item = by_external_id.get(order.client_order_id)
            if item is None:
                missing.append(order)
            else:
                self._order_tracker.process_order_update(self._order_update(item, order))
        await self._update_orders_with_error_handler(missing, self._handle_update_error_for_active_order)
        return True

    async def _request_order_status(self, tracked_order: InFlightOrder) -> OrderUpdate:
        """Look an order up by its external id, falling back to the orders history."""
        items = await self._orders_by_external_id(tracked_order.client_order_id)
        if not items:
            data = await self._private_get(CONSTANTS.ORDERS_HISTORY_PATH_URL,
                                           params={"externalId": tracked_order.client_order_id})
            items = messages.parse_list(data, messages.parse_order)
        items = [item for item in items if item.external_id in (None, tracked_order.client_order_id)]
        if not items:
            raise messages.ExtendedAPIError(CONSTANTS.HTTP_NOT_FOUND, CONSTANTS.ERROR_CODE_NOT_FOUND,
                                            f"order {tracked_order.client_order_id} not found")
        latest = max(items, key=lambda item: item.updated_time_ms)
        return self._order_update(latest, tracked_order)

    async def _orders_by_external_id(self, external_id: str) -> List[messages.AccountOrder]:
        path = CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH_URL.format(external_id=external_id)
        try:
            data = await self._private_get(path, limit_id=CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH_URL)
        except messages.ExtendedAPIError as error:
            if error.is_not_found:
                return []
            raise
        return messages.parse_list(data, messages.parse_order)

    def _order_update(self, item: messages.AccountOrder, order: InFlightOrder) -> OrderUpdate:
        new_state = CONSTANTS.ORDER_STATE[item.status]
        if order.exchange_order_id is None:
            # Now, not when Hummingbot's tracker applies the update (it first waits up to 5 s for the fills): REST
            # trades may lack externalOrderId, and the fill look-up below then matches them by this id.
            order.update_exchange_order_id(item.order_id)
        if new_state == OrderState.FILLED and order.executed_amount_base < order.amount:
            safe_ensure_future(self._fetch_fills_if_missing(order))
        return OrderUpdate(
            trading_pair=order.trading_pair, update_timestamp=item.updated_time_ms * 1e-3 or self._time(),
            new_state=new_state, client_order_id=order.client_order_id, exchange_order_id=item.order_id,
            misc_updates=self._status_details(item, order))

    def _status_details(self, item: messages.AccountOrder, order: InFlightOrder) -> Optional[Dict[str, str]]:
        """The reason of a REJECTED / CANCELLED / EXPIRED order, carried into the failure event and the log."""
        if item.status not in STATUSES_WITH_REASON:
            return None
        reason = item.status_reason or "NONE"
        if item.status == STATUS_REJECTED:
            message = f"Extended rejected order {order.client_order_id}: {reason}"
            if reason == CONSTANTS.STATUS_REASON_POST_ONLY_FAILED:
                message += " (the post-only order would have traded immediately)"
        else:
            message = f"Order {order.client_order_id} {item.status.lower()} on Extended ({reason})"
        self.logger().info(message)
        return {"error_message": message, "error_type": reason}

    async def _fetch_fills_if_missing(self, order: InFlightOrder):
        """A FILLED order whose fills have not all arrived: wait a moment for the stream, then ask REST."""
        try:
            await asyncio.wait_for(order.wait_until_completely_filled(), timeout=_STREAM_FILL_GRACE_SECONDS)
        except asyncio.TimeoutError:
            await self._update_orders_fills([order])

    async def _update_orders_fills(self, orders: List[InFlightOrder]) -> bool:
        """One trades request for all the given orders (not one per order). False when the trades could not be
        read."""
        if not orders:
            return True
        try:
            trades = await self._recent_trades(sorted({order.trading_pair for order in orders}),
                                               since_s=min(order.creation_timestamp for order in orders))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().warning(f"Failed to fetch trade updates for orders "
                                  f"{[o.client_order_id for o in orders]}. Error: {error}", exc_info=error)
            return False
        for order in orders:
            for trade in trades:
                if self._trade_belongs_to(trade, order):
                    self._order_tracker.process_trade_update(self._trade_update(trade, order))
        return True

    async def _recent_trades(self, trading_pairs: List[str], since_s: float) -> List[messages.AccountTrade]:
        """The account's trades in the pairs, newest first, page after page (``cursor``) until one reaches back
        before ``since_s`` (the creation of the oldest order looked at: its fills cannot be older) or runs short;
        at most TRADES_MAX_PAGES pages. A busy account (or other bots on it) may trade more than a page since."""
        params = self._market_params(trading_pairs) + [("limit", str(TRADES_REQUEST_LIMIT))]
        trades: List[messages.AccountTrade] = []
        cursor = None
        for _ in range(TRADES_MAX_PAGES):
            page_params = params if cursor is None else params + [("cursor", str(cursor))]
            body = await self._api_get(path_url=CONSTANTS.TRADES_PATH_URL, params=page_params, is_auth_required=True)
            page = messages.parse_list(messages.response_data(body), messages.parse_trade)
            trades.extend(page)
            cursor = messages.response_cursor(body)
            if len(page) < TRADES_REQUEST_LIMIT or cursor is None \
                    or min(trade.created_time_ms for trade in page) < since_s * 1000:
                break
        return trades

    @staticmethod
    def _trade_belongs_to(trade: messages.AccountTrade, order: InFlightOrder) -> bool:
        if trade.external_order_id is not None:
            return trade.external_order_id == order.client_order_id
        return order.exchange_order_id is not None and trade.order_id == order.exchange_order_id

    async def _all_trade_updates_for_order(self, order: InFlightOrder) -> List[TradeUpdate]:
        trades = await self._recent_trades([order.trading_pair], since_s=order.creation_timestamp)
        return [self._trade_update(trade, order) for trade in trades if self._trade_belongs_to(trade, order)]

    def _trade_update(self, trade: messages.AccountTrade, order: InFlightOrder) -> TradeUpdate:
        collateral = self._collateral_of(order.trading_pair)
        return TradeUpdate(
            trade_id=trade.trade_id, client_order_id=order.client_order_id, exchange_order_id=trade.order_id,
            trading_pair=order.trading_pair, fill_timestamp=trade.created_time_ms * 1e-3,
            fill_price=trade.price, fill_base_amount=trade.qty, fill_quote_amount=trade.price * trade.qty,
            fee=AddedToCostTradeFee(percent_token=collateral, flat_fees=[TokenAmount(collateral, trade.fee)]),
            is_taker=trade.is_taker)

    # ------------------------------------------------------------------------------------------ funding payments
    def tick(self, timestamp: float):
        if self._funding_poll_due is not None and timestamp >= self._funding_poll_due:
            self._funding_poll_due = None
            self._funding_fee_poll_notifier.set()
        super().tick(timestamp)

    async def _listen_for_funding_info(self):
        """As the base class, with the funding-info updates watched on their way to the perpetual state: an
        applied funding (an update that moves the next funding time), or the funding stream coming back after a
        drop (one may have been missed), makes the payments be read a few seconds later, instead of at the next
        hourly poll."""
        await self._init_funding_info()
        self._orderbook_ds.on_funding_stream_reconnected = self._on_funding_applied  # a funding may have been missed
        await self._orderbook_ds.listen_for_funding_info(
            output=_FundingUpdateWatch(self._perpetual_trading.funding_info_stream, self._on_funding_applied))

    def _on_funding_applied(self):
        self._funding_poll_due = self.current_timestamp + FUNDING_PAYMENT_POLL_DELAY

    async def _update_all_funding_payments(self, fire_event_on_new: bool):
        """One funding-history request for all pairs, then one event per new payment, oldest first (a poll that
        failed, or a stream that was down, may leave several payments of a pair to report)."""
        try:
            payments = await self._funding_payments_since_last_read()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.logger().network("Unexpected error while fetching funding payments.", exc_info=True,
                                  app_warning_msg="Could not fetch Extended funding payments.")
            return
        for pair in self._trading_pairs:
            history = payments.get(pair) or [(0, Decimal("-1"), Decimal("-1"))]
            for timestamp, rate, amount in history if fire_event_on_new else history[-1:]:
                self._emit_funding_payment_event(pair, timestamp, rate, amount, fire_event_on_new)

    async def _funding_payments_since_last_read(self) -> Dict[str, List[Tuple[float, Decimal, Decimal]]]:
        """Per pair, ``(time in seconds, rate, amount)`` of the payments since the newest one read before (the
        last day at first), oldest first."""
        now_ms = int(self._time() * 1000)
        from_ms = self._funding_from_ms or now_ms - FUNDING_LOOKBACK_MS
        params = self._market_params(self._trading_pairs) + [("fromTime", str(from_ms))]
        data = await self._private_get(CONSTANTS.FUNDING_PAYMENTS_PATH_URL, params=params)
        by_pair: Dict[str, List[messages.FundingPayment]] = {}
        for payment in messages.parse_list(data, messages.parse_funding_payment):
            pair = self._pair_for(payment.market)
            if pair is not None:
                by_pair.setdefault(pair, []).append(payment)
        if by_pair:
            self._funding_from_ms = max(p.paid_time_ms for payments in by_pair.values() for p in payments)
        return {pair: [(p.paid_time_ms * 1e-3, p.funding_rate, p.amount)
                       for p in sorted(payments, key=lambda payment: payment.paid_time_ms)]
                for pair, payments in by_pair.items()}

    async def _fetch_last_fee_payment(self, trading_pair: str) -> Tuple[float, Decimal, Decimal]:
        payments = await self._funding_payments_since_last_read()
        return (payments.get(trading_pair) or [(0, Decimal("-1"), Decimal("-1"))])[-1]

    # ------------------------------------------------------------------------------------------ account stream
    async def _user_stream_event_listener(self):
        async for raw_message in self._iter_user_event_queue():
            try:
                await self._process_account_message(messages.parse_stream_message(raw_message))
            except asyncio.CancelledError:
                raise
            except messages.MalformedMessageError:
                self.logger().error("Unexpected error in user stream listener loop.", exc_info=True)  # skipped
            except Exception:
                self.logger().error("Unexpected error in user stream listener loop.", exc_info=True)
                await self._sleep(1.0)

    async def _process_account_message(self, message: messages.StreamMessage):
        handler = {
            messages.ORDER: self._process_order_message,
            messages.TRADE: self._process_trade_message,
            messages.BALANCE: self._process_balance_message,
            messages.POSITION: self._process_position_message,
            messages.FUNDING: self._process_funding_message,
            messages.RECONCILE: self._process_reconcile_message,
        }[message.type]
        handler(message)
        if message.skipped:
            self.logger().warning(f"Extended account stream {message.type} message: {len(message.skipped)} item(s) "
                                  f"could not be read and were skipped ({'; '.join(message.skipped)}); reconciling "
                                  f"over REST.")
            self._start_reconciliation()

    def _process_order_message(self, message: messages.StreamMessage):
        snapshot_of = set(self._open_orders_by_market) if message.is_snapshot else None
        self._remember_open_orders(message.items, snapshot_of=snapshot_of)
        for item in message.items:
            order = self._tracked_order(item.external_id, item.order_id, self._order_tracker.all_updatable_orders)
            if order is not None:
                self._order_tracker.process_order_update(self._order_update(item, order))
        if message.is_snapshot:
            listed = {item.external_id for item in message.items}
            missing = [o for o in self.in_flight_orders.values() if o.client_order_id not in listed and not o.is_done]
            if missing:
                safe_ensure_future(self._update_orders_with_error_handler(
                    missing, self._handle_update_error_for_active_order))

    def _process_trade_message(self, message: messages.StreamMessage):
        for trade in message.items:
            order = self._tracked_order(trade.external_order_id, trade.order_id,
                                        self._order_tracker.all_fillable_orders)
            if order is None:
                self.logger().debug(f"{trade.trade_type} trade {trade.trade_id} on {trade.market} is not for an order "
                                    f"of this bot; the position update will reflect it.")
                continue
            self._order_tracker.process_trade_update(self._trade_update(trade, order))

    def _process_balance_message(self, message: messages.StreamMessage):
        for balance in message.items:
            self._note_stream_update(BALANCE_ITEM)
            self._set_balance(balance.collateral, balance.equity, balance.available_for_trade)

    def _process_position_message(self, message: messages.StreamMessage):
        pairs = {self._pair_for(position.market) for position in message.items}
        if message.is_snapshot:
            pairs.update(position.trading_pair for position in self.account_positions.values())
        for pair in pairs - {None}:
            self._note_stream_update(pair)
        self._apply_positions(list(message.items), is_snapshot=message.is_snapshot)

    def _note_stream_update(self, item: str):
        self._stream_updates += 1
        self._last_stream_update[item] = self._stream_updates

    def _streamed_since(self, item: str, rest_request_started: int) -> bool:
        """Whether the stream updated the item after a REST request that started at ``rest_request_started``."""
        return self._last_stream_update.get(item, 0) > rest_request_started

    def _process_funding_message(self, message: messages.StreamMessage):
        self._on_funding_applied()

    def _process_reconcile_message(self, message: messages.StreamMessage):
        self.logger().info("Account stream re-connected: reconciling orders, trades, positions, balance and funding "
                           "payments over REST.")
        self._start_reconciliation()
        # A funding paid during the interruption was announced on streams that were down too: read the payments
        # (one request) rather than wait for the hourly poll.
        self._on_funding_applied()

    def _start_reconciliation(self):
        if self._reconcile_task is not None and not self._reconcile_task.done():
            self._reconcile_task.cancel()  # superseded: what it read may predate what made this one necessary
        self._reconcile_task = safe_ensure_future(self._reconcile_account())

    async def _reconcile_account(self):
        """Orders and trades, positions and balance over REST; the parts that fail are retried after growing pauses
        (RECONCILE_RETRY_DELAYS), then left to the status polling."""
        steps = {"orders and trades": self._reconcile_orders, "positions": self._update_positions,
                 "balance": self._update_balances}
        delays = iter(RECONCILE_RETRY_DELAYS)
        while True:
            results = await safe_gather(*(step() for step in steps.values()), return_exceptions=True)
            failed = {what: result for what, result in zip(steps, results) if isinstance(result, Exception)}
            if not failed:
                return
            reasons = "; ".join(f"{what}: {result}" for what, result in failed.items())
            delay = next(delays, None)
            if delay is None:
                self.logger().warning(f"Reconciliation over REST failed again ({reasons}); the status polling will "
                                      f"retry.")
                return
            self.logger().warning(f"Reconciliation over REST failed ({reasons}); retrying in {delay:g} s.")
            await self._sleep(delay)
            steps = {what: steps[what] for what in failed}

    async def _reconcile_orders(self):
        fills_read = await self._update_orders_fills(list(self._order_tracker.all_fillable_orders.values()))
        orders_read = await self._update_orders()
        if not (fills_read and orders_read):
            raise IOError("the open orders or the trades could not be read")

    def _tracked_order(self, external_id: Optional[str], order_id: Optional[str],
                       orders: Dict[str, InFlightOrder]) -> Optional[InFlightOrder]:
        if external_id is not None and external_id in orders:
            return orders[external_id]
        if order_id is None:
            return None
        return next((order for order in orders.values() if order.exchange_order_id == order_id), None)

    def _remember_open_orders(self, items, snapshot_of: Optional[Set[str]] = None):
        """Open orders of the whole account per market (other bots' too), for the 200-orders limit.
        ``snapshot_of``: the markets the items fully describe (their previous lists are replaced)."""
        for market in snapshot_of or ():
            self._open_orders_by_market.pop(market, None)
        for item in items:
            ids = self._open_orders_by_market.setdefault(item.market, set())
            (ids.add if item.is_open else ids.discard)(item.order_id)


def _retry_pause(failures_in_a_row: int) -> float:
    return min(STATUS_POLL_RETRY_INITIAL * 2 ** (failures_in_a_row - 1), STATUS_POLL_RETRY_MAX)


def _to_tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding=rounding) * tick
