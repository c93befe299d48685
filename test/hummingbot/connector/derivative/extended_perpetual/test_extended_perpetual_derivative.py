"""ExtendedPerpetualDerivative against Hummingbot's abstract perpetual suite, plus Extended-specific cases.

The network is mocked only at the edge (aioresponses for REST, a queue for the account stream). Payloads are the
API documentation's examples and the live probe's messages, adapted to the test pair where the suite needs it.
"""
import asyncio
import json
import os
import re
import time
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple
from unittest.mock import AsyncMock, MagicMock, patch

from aioresponses import aioresponses
from aioresponses.core import CallbackResult, RequestCall
from bidict import bidict
from yarl import URL

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_account_messages as messages,
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_markets as markets,
    extended_perpetual_signer as signer,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_derivative as derivative_module
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (
    ExtendedPerpetualDerivative,
)
from hummingbot.connector.derivative.position import Position
from hummingbot.connector.perpetual_derivative_py_base import PerpetualDerivativePyBase
from hummingbot.connector.test_support.perpetual_derivative_test import AbstractPerpetualDerivativeTests
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.core.data_type.common import OrderType, PositionAction, PositionMode, PositionSide, TradeType
from hummingbot.core.data_type.funding_info import FundingInfo
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_row import OrderBookRow
from hummingbot.core.data_type.trade_fee import AddedToCostTradeFee, TokenAmount, TradeFeeBase
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from hummingbot.core.network_iterator import NetworkStatus
from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase

API_KEY = "test-api-key-0123456789abcdef"  # noqa: mock
STARK_PRIVATE_KEY = "0x3c1e9550e66958296d11b60f8e8e7a7ad990d07fa65d5f7652c4a6c87d4e3cc"  # noqa: mock
STARK_PUBLIC_KEY = "0x77a3b314db07c45076d11f62b6f9e748a39790441823307743cf00d6597ea43"  # noqa: mock
VAULT_ID = "10002"
ORDER_TS_MS = 1701563440000


def regex(url: str, tail: str = "") -> re.Pattern:
    return re.compile("^" + re.escape(url) + tail)


def market_item(name: str = "BTC-USD", asset: str = "BTC", collateral: str = "USD", status: str = "ACTIVE",
                last_price: str = "9999.9") -> Dict[str, Any]:
    """One ``/info/markets`` item shaped like the documentation's example."""
    return {
        "name": name, "assetName": asset, "assetPrecision": 6, "collateralAssetName": collateral,
        "collateralAssetPrecision": 6, "active": status != "DELISTED", "status": status,
        "marketStats": {
            "dailyVolume": "39659164065", "dailyVolumeBase": "39659164065", "dailyPriceChangePercentage": "5.57",
            "dailyLow": "39512", "dailyHigh": "42122", "lastPrice": last_price, "askPrice": "10001",
            "bidPrice": "9999", "markPrice": "10000", "indexPrice": "10000.5", "fundingRate": "0.001",
            "nextFundingRate": 1701563440, "openInterest": "1245.2", "openInterestBase": "1245.2",
        },
        "tradingConfig": {
            "minOrderSize": "0.01", "minOrderSizeChange": "0.000001", "minPriceChange": "0.0001",
            "maxMarketOrderValue": "10000000", "maxLimitOrderValue": "50000000", "maxPositionValue": "100000000",
            "maxLeverage": "50", "maxNumOrders": "200", "limitPriceCap": "0.05", "limitPriceFloor": "0.05",
        },
        "l2Config": {
            "type": "STARKX", "collateralId": "0x35596841893e0d17079c27b2d72db1694f26a1932a7429144b439ba0807d29c",
            "collateralResolution": 1000000, "syntheticId": "0x4254432d3600000000000000000000",
            "syntheticResolution": 1000000,
        },
    }


def load_market(exchange: ExtendedPerpetualDerivative, item: Dict[str, Any]):
    market, signing = markets.parse_market(item), signer.SigningMarket.from_api(item)
    exchange._market_specs[market.trading_pair] = exchange._market_spec_from(market, signing)


def ok(data: Any) -> str:
    return json.dumps({"status": "OK", "data": data})


def error(code: Any, message: str) -> str:
    return json.dumps({"status": "ERROR", "error": {"code": code, "message": message}})


class ExtendedPerpetualDerivativeTests(AbstractPerpetualDerivativeTests.PerpetualDerivativeTests):
    client_order_id_prefix = "HBOT-1"
    exchange_order_id_prefix = "17915"

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.base_asset = "BTC"
        cls.quote_asset = "USD"
        cls.trading_pair = f"{cls.base_asset}-{cls.quote_asset}"

    # ------------------------------------------------------------------------------------------ urls
    @property
    def all_symbols_url(self):
        return regex(web_utils.public_rest_url(CONSTANTS.MARKETS_PATH_URL))

    @property
    def latest_prices_url(self):
        return regex(web_utils.public_rest_url(CONSTANTS.MARKETS_PATH_URL))

    @property
    def network_status_url(self):
        return regex(web_utils.public_rest_url(CONSTANTS.MARKETS_PATH_URL))

    @property
    def trading_rules_url(self):
        return regex(web_utils.public_rest_url(CONSTANTS.MARKETS_PATH_URL))

    @property
    def order_creation_url(self):
        return web_utils.private_rest_url(CONSTANTS.ORDER_PATH_URL)

    @property
    def balance_url(self):
        return web_utils.private_rest_url(CONSTANTS.BALANCE_PATH_URL)

    @property
    def funding_info_url(self):  # the marketStats of every market, from one request (not /info/markets/{m}/stats)
        return regex(web_utils.public_rest_url(CONSTANTS.MARKETS_PATH_URL))

    @property
    def funding_payment_url(self):
        return regex(web_utils.private_rest_url(CONSTANTS.FUNDING_PAYMENTS_PATH_URL))

    @property
    def open_orders_url(self):
        return regex(web_utils.private_rest_url(CONSTANTS.OPEN_ORDERS_PATH_URL), r"(\?|$)")

    @property
    def trades_url(self):
        return regex(web_utils.private_rest_url(CONSTANTS.TRADES_PATH_URL))

    @property
    def history_url(self):
        return regex(web_utils.private_rest_url(CONSTANTS.ORDERS_HISTORY_PATH_URL))

    @property
    def leverage_url(self):
        return regex(web_utils.private_rest_url(CONSTANTS.LEVERAGE_PATH_URL))

    def external_order_url(self, order: InFlightOrder) -> re.Pattern:
        path = CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH_URL.format(external_id=order.client_order_id)
        return regex(web_utils.private_rest_url(path), "$")

    def cancel_url(self, order: InFlightOrder) -> re.Pattern:
        return regex(web_utils.private_rest_url(CONSTANTS.ORDER_PATH_URL), rf"\?externalId={order.client_order_id}$")

    # ------------------------------------------------------------------------------------------ responses
    @property
    def all_symbols_request_mock_response(self):
        return {"status": "OK", "data": [market_item()]}

    @property
    def latest_prices_request_mock_response(self):
        return {"status": "OK", "data": [market_item(last_price=str(self.expected_latest_price))]}

    @property
    def all_symbols_including_invalid_pair_mock_response(self) -> Tuple[str, Any]:
        delisted = market_item(name="INVALID-PAIR", asset="INVALID", collateral="PAIR", status="DELISTED")
        return "INVALID-PAIR", {"status": "OK", "data": [market_item(), delisted]}

    @property
    def network_status_request_successful_mock_response(self):
        return {"status": "OK", "data": [market_item()]}

    @property
    def trading_rules_request_mock_response(self):
        return {"status": "OK", "data": [market_item()]}

    @property
    def trading_rules_request_erroneous_mock_response(self):
        item = market_item()
        del item["tradingConfig"]
        return {"status": "OK", "data": [item]}

    @property
    def order_creation_request_successful_mock_response(self):
        return {"status": "OK", "data": {"id": self.expected_exchange_order_id, "externalId": "ignored"}}

    @property
    def balance_request_mock_response_for_base_and_quote(self):
        return {"status": "OK", "data": {
            "collateralName": self.quote_asset, "balance": "2000", "equity": "2000", "availableForTrade": "2000",
            "availableForWithdrawal": "2000", "unrealisedPnl": "0", "initialMargin": "0", "marginRatio": "0",
            "exposure": "0", "leverage": "0", "updatedTime": 1701563440}}

    @property
    def balance_request_mock_response_only_base(self):
        return {"status": "ERROR", "error": {"code": 404, "message": "Balance not found"}}

    @property
    def balance_event_websocket_update(self):
        return {"type": "BALANCE", "data": {"isSnapshot": False, "balance": {
            "collateralName": self.quote_asset, "balance": "100.000000", "equity": "15.000000",
            "availableForTrade": "10.000000", "availableForWithdrawal": "4.000000", "unrealisedPnl": "1.000000",
            "initialMargin": "0.140000", "marginRatio": "1.500000", "updatedTime": 1699976104901,
            "exposure": "12751.859629", "leverage": "1275.1860"}}, "ts": 1715885952304, "seq": 4}

    @property
    def expected_latest_price(self):
        return 9999.9

    @property
    def expected_supported_order_types(self):
        return [OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET]

    @property
    def expected_supported_position_modes(self) -> List[PositionMode]:
        return [PositionMode.ONEWAY]

    @property
    def expected_trading_rule(self):
        return TradingRule(
            trading_pair=self.trading_pair, min_order_size=Decimal("0.01"), min_price_increment=Decimal("0.0001"),
            min_base_amount_increment=Decimal("0.000001"), min_notional_size=Decimal("0"),
            buy_order_collateral_token=self.quote_asset, sell_order_collateral_token=self.quote_asset)

    @property
    def expected_logged_error_for_erroneous_trading_rule(self):
        item = self.trading_rules_request_erroneous_mock_response["data"][0]
        return f"Error parsing the trading pair rule {item}. Skipping."

    @property
    def expected_exchange_order_id(self):
        return 1791389621914243072

    @property
    def is_order_fill_http_update_included_in_status_update(self) -> bool:
        return True

    @property
    def is_order_fill_http_update_executed_during_websocket_order_event_processing(self) -> bool:
        return False

    @property
    def expected_partial_fill_price(self) -> Decimal:
        return Decimal("10000")

    @property
    def expected_partial_fill_amount(self) -> Decimal:
        return Decimal("0.5")

    @property
    def expected_fill_fee(self) -> TradeFeeBase:
        return AddedToCostTradeFee(percent_token=self.quote_asset,
                                   flat_fees=[TokenAmount(token=self.quote_asset, amount=Decimal("0.1"))])

    @property
    def expected_fill_trade_id(self) -> str:
        return "1784963886257016832"

    @property
    def funding_info_mock_response(self):
        item = market_item(name=self.exchange_trading_pair)
        item["marketStats"] = {
            "dailyVolume": "1", "dailyVolumeBase": "1", "dailyPriceChangePercentage": "0", "dailyLow": "1",
            "dailyHigh": "1", "lastPrice": "1", "askPrice": "1", "bidPrice": "1",
            "markPrice": str(self.target_funding_info_mark_price),
            "indexPrice": str(self.target_funding_info_index_price),
            "fundingRate": str(self.target_funding_info_rate),
            "nextFundingRate": self.target_funding_info_next_funding_utc_timestamp * 1000,
            "openInterest": "1", "openInterestBase": "1"}
        return {"status": "OK", "data": [item]}

    @property
    def empty_funding_payment_mock_response(self):
        return {"status": "OK", "data": [], "pagination": {"cursor": 0, "count": 0}}

    @property
    def funding_payment_mock_response(self):
        return {"status": "OK", "data": [{
            "id": 8341, "accountId": 3137, "market": self.exchange_trading_pair, "positionId": 1821237954501148672,
            "side": "SHORT", "size": "1.116", "value": "560.77401888", "markPrice": "502.48568",  # short: receives
            "fundingFee": str(self.target_funding_payment_payment_amount),
            "fundingRate": str(self.target_funding_payment_funding_rate),
            "paidTime": self.target_funding_payment_timestamp * 1000}],
            "pagination": {"cursor": 8341, "count": 1}}

    def exchange_symbol_for_tokens(self, base_token: str, quote_token: str) -> str:
        return f"{base_token}-{quote_token}"

    def create_exchange_instance(self):
        exchange = ExtendedPerpetualDerivative(
            extended_perpetual_api_key=API_KEY,
            extended_perpetual_stark_private_key=STARK_PRIVATE_KEY,
            extended_perpetual_stark_public_key=STARK_PUBLIC_KEY,
            extended_perpetual_vault_id=VAULT_ID,
            trading_pairs=[self.trading_pair],
        )
        load_market(exchange, market_item())
        return exchange

    # ------------------------------------------------------------------------------------------ validation
    @staticmethod
    def _params(request_call: RequestCall) -> List[Tuple[str, str]]:
        params = request_call.kwargs.get("params") or []
        return list(params.items()) if isinstance(params, dict) else list(params)

    def validate_auth_credentials_present(self, request_call: RequestCall):
        headers = request_call.kwargs["headers"]
        self.assertEqual(API_KEY, headers[CONSTANTS.API_KEY_HEADER])
        self.assertEqual(CONSTANTS.USER_AGENT, headers[CONSTANTS.USER_AGENT_HEADER])
        self.assertNotIn(API_KEY, json.dumps(self._params(request_call)))

    def validate_order_creation_request(self, order: InFlightOrder, request_call: RequestCall):
        body = json.loads(request_call.kwargs["data"])
        self.assertEqual(order.client_order_id, body["id"])
        self.assertEqual(self.exchange_trading_pair, body["market"])
        self.assertEqual("BUY" if order.trade_type == TradeType.BUY else "SELL", body["side"])
        self.assertEqual(order.amount, Decimal(body["qty"]))
        self.assertEqual(order.price, Decimal(body["price"]))
        self.assertEqual("LIMIT", body["type"])
        self.assertEqual("GTT", body["timeInForce"])
        self.assertEqual(order.position == PositionAction.CLOSE, body["reduceOnly"])
        self.assertFalse(body["postOnly"])
        self.assertEqual("ACCOUNT", body["selfTradeProtectionLevel"])
        self.assertEqual(Decimal("0.00025"), Decimal(body["fee"]))
        self.assertTrue(1 <= int(body["nonce"]) <= 2 ** 31)
        self.assertEqual(STARK_PUBLIC_KEY, body["settlement"]["starkKey"])
        self.assertEqual(VAULT_ID, body["settlement"]["collateralPosition"])

    def validate_order_cancelation_request(self, order: InFlightOrder, request_call: RequestCall):
        self.assertEqual({"externalId": order.client_order_id}, request_call.kwargs["params"])

    def validate_order_status_request(self, order: InFlightOrder, request_call: RequestCall):
        params = self._params(request_call)
        self.assertTrue(params == [] or ("market", self.exchange_trading_pair) in params
                        or ("externalId", order.client_order_id) in params, params)

    def validate_trades_request(self, order: InFlightOrder, request_call: RequestCall):
        self.assertIn(("market", self.exchange_trading_pair), self._params(request_call))

    # ------------------------------------------------------------------------------------------ wire items
    def order_item(self, order: InFlightOrder, status: str, filled: Decimal = Decimal("0"),
                   reason: Optional[str] = None) -> Dict[str, Any]:
        item = {
            "id": int(order.exchange_order_id or self.expected_exchange_order_id), "accountId": 3017,
            "externalId": order.client_order_id, "market": self.exchange_trading_pair, "type": "LIMIT",
            "side": "BUY" if order.trade_type == TradeType.BUY else "SELL", "status": status,
            "price": str(order.price), "averagePrice": str(order.price) if filled else "", "qty": str(order.amount),
            "filledQty": str(filled), "payedFee": "0.1" if filled else "0", "reduceOnly": False, "postOnly": False,
            "createdTime": ORDER_TS_MS, "updatedTime": ORDER_TS_MS + 1000, "timeInForce": "GTT",
            "expireTime": ORDER_TS_MS + 89 * 86400000,
        }
        if reason is not None:
            item["statusReason"] = reason
        return item

    def trade_item(self, order: InFlightOrder, qty: Decimal, price: Decimal, stream: bool,
                   trade_id: Optional[str] = None) -> Dict[str, Any]:
        item = {
            "id": int(trade_id or self.expected_fill_trade_id), "accountId": 3017,
            "market": self.exchange_trading_pair, "orderId": int(order.exchange_order_id or 0),
            "side": "BUY" if order.trade_type == TradeType.BUY else "SELL", "price": str(price), "qty": str(qty),
            "value": str(price * qty), "fee": "0.1", "tradeType": "TRADE", "createdTime": ORDER_TS_MS + 500,
            "isTaker": True,
        }
        if stream:
            item["externalOrderId"] = order.client_order_id
        return item

    def stream_message(self, message_type: str, key: str, items: Any, seq: int = 7,
                       snapshot: bool = False) -> Dict[str, Any]:
        data = {key: items}
        if snapshot:
            data["isSnapshot"] = True
        return {"type": message_type, "data": data, "ts": 1715885884837, "seq": seq}

    def order_event_for_new_order_websocket_update(self, order: InFlightOrder):
        return self.stream_message("ORDER", "orders", [self.order_item(order, "NEW")])

    def order_event_for_canceled_order_websocket_update(self, order: InFlightOrder):
        return self.stream_message("ORDER", "orders", [self.order_item(order, "CANCELLED", reason="NONE")])

    def order_event_for_full_fill_websocket_update(self, order: InFlightOrder):
        return self.stream_message("ORDER", "orders", [self.order_item(order, "FILLED", filled=order.amount)])

    def trade_event_for_full_fill_websocket_update(self, order: InFlightOrder):
        return self.stream_message("TRADE", "trades", [self.trade_item(order, order.amount, order.price, True)])

    def position_event_for_full_fill_websocket_update(self, order: InFlightOrder, unrealized_pnl: float):
        return self.stream_message("POSITION", "positions", [{
            "id": 1791183357858545669, "accountId": 3017, "market": self.exchange_trading_pair,
            "side": "LONG" if order.trade_type == TradeType.BUY else "SHORT", "leverage": str(order.leverage),
            "size": str(order.amount), "value": str(order.amount * order.price), "openPrice": str(order.price),
            "markPrice": str(order.price), "liquidationPrice": "75816.37", "margin": "637.59",
            "unrealisedPnl": str(unrealized_pnl), "realisedPnl": "0", "adl": 1,
            "createdAt": 1715886365748, "updatedAt": 1715886365748}])

    def funding_info_event_for_websocket_update(self):
        return (self.trading_pair, {"type": "MP", "data": {"m": self.exchange_trading_pair, "p": "20",
                                                           "ts": 1701563440000}, "ts": 1701563440000, "seq": 2})

    # ------------------------------------------------------------------------------------------ REST mocks
    def configure_successful_cancelation_response(self, order: InFlightOrder, mock_api: aioresponses,
                                                  callback: Optional[Callable] = lambda *args, **kwargs: None):
        url = self.cancel_url(order)
        mock_api.delete(url, body=json.dumps({"status": "OK"}), callback=callback)
        return url

    def configure_erroneous_cancelation_response(self, order: InFlightOrder, mock_api: aioresponses,
                                                 callback: Optional[Callable] = lambda *args, **kwargs: None):
        url = self.cancel_url(order)
        mock_api.delete(url, status=500, body=error(1006, "Application error"), callback=callback)
        return url

    def configure_order_not_found_error_cancelation_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None):
        """Extended has no open order of that id: the connector looks it up, and it is not found there either."""
        url = self.cancel_url(order)
        mock_api.delete(url, status=404, body=error(404, "Order not found"))
        mock_api.get(self.external_order_url(order), status=404, body=error(404, "Order not found"))
        mock_api.get(self.history_url, body=ok([]), callback=callback)
        return url

    def configure_one_successful_one_erroneous_cancel_all_response(
            self, successful_order: InFlightOrder, erroneous_order: InFlightOrder, mock_api: aioresponses):
        return [self.configure_successful_cancelation_response(successful_order, mock_api),
                self.configure_erroneous_cancelation_response(erroneous_order, mock_api)]

    def _configure_lookup(self, order: InFlightOrder, mock_api: aioresponses, status: str, filled: Decimal,
                          callback: Callable) -> List[Any]:
        mock_api.get(self.open_orders_url, body=ok([]), callback=callback)
        url = self.external_order_url(order)
        mock_api.get(url, body=ok([self.order_item(order, status, filled)]), callback=callback)
        return [self.open_orders_url, url]

    def configure_completely_filled_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None):
        return self._configure_lookup(order, mock_api, "FILLED", order.amount, callback)

    def configure_canceled_order_status_response(self, order: InFlightOrder, mock_api: aioresponses,
                                                 callback: Optional[Callable] = lambda *args, **kwargs: None):
        return self._configure_lookup(order, mock_api, "CANCELLED", Decimal("0"), callback)

    def configure_open_order_status_response(self, order: InFlightOrder, mock_api: aioresponses,
                                             callback: Optional[Callable] = lambda *args, **kwargs: None):
        mock_api.get(self.open_orders_url, body=ok([self.order_item(order, "NEW")]), callback=callback)
        return [self.open_orders_url]

    def configure_http_error_order_status_response(self, order: InFlightOrder, mock_api: aioresponses,
                                                   callback: Optional[Callable] = lambda *args, **kwargs: None):
        mock_api.get(self.open_orders_url, body=ok([]), callback=callback)
        url = self.external_order_url(order)
        mock_api.get(url, status=500, body=error(500, "Internal server error"), callback=callback)
        return url

    def configure_partially_filled_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None):
        item = self.order_item(order, "PARTIALLY_FILLED", self.expected_partial_fill_amount)
        mock_api.get(self.open_orders_url, body=ok([item]), callback=callback)
        return self.open_orders_url

    def configure_order_not_found_error_order_status_response(
            self, order: InFlightOrder, mock_api: aioresponses,
            callback: Optional[Callable] = lambda *args, **kwargs: None):
        url = self.external_order_url(order)
        mock_api.get(url, status=404, body=error(404, "Order not found"), callback=callback)
        mock_api.get(self.history_url, body=ok([]), callback=callback)
        return [url, self.history_url]

    def configure_partial_fill_trade_response(self, order: InFlightOrder, mock_api: aioresponses,
                                              callback: Optional[Callable] = lambda *args, **kwargs: None):
        trade = self.trade_item(order, self.expected_partial_fill_amount, self.expected_partial_fill_price, False)
        mock_api.get(self.trades_url, body=ok([trade]), callback=callback)
        return self.trades_url

    def configure_erroneous_http_fill_trade_response(self, order: InFlightOrder, mock_api: aioresponses,
                                                     callback: Optional[Callable] = lambda *args, **kwargs: None):
        mock_api.get(self.trades_url, status=400, body=error(400, "Bad request"), callback=callback)
        return self.trades_url

    def configure_full_fill_trade_response(self, order: InFlightOrder, mock_api: aioresponses,
                                           callback: Optional[Callable] = lambda *args, **kwargs: None):
        trade = self.trade_item(order, order.amount, order.price, False)
        mock_api.get(self.trades_url, body=ok([trade]), callback=callback)
        return self.trades_url

    def configure_successful_set_position_mode(self, position_mode: PositionMode, mock_api: aioresponses,
                                               callback: Optional[Callable] = lambda *args, **kwargs: None):
        """Nothing to mock: ONEWAY is Extended's only mode and setting it sends no request."""

    def configure_failed_set_position_mode(self, position_mode: PositionMode, mock_api: aioresponses,
                                           callback: Optional[Callable] = lambda *args, **kwargs: None):
        return "", "Extended supports only the ONEWAY position mode."

    def configure_failed_set_leverage(self, leverage: int, mock_api: aioresponses,
                                      callback: Optional[Callable] = lambda *args, **kwargs: None):
        mock_api.patch(self.leverage_url, status=400, body=error(1050, "Leverage exceeds max leverage"),
                       callback=callback)
        return self.leverage_url, messages.describe_error(400, 1050, "Leverage exceeds max leverage")

    def configure_successful_set_leverage(self, leverage: int, mock_api: aioresponses,
                                          callback: Optional[Callable] = lambda *args, **kwargs: None):
        mock_api.patch(self.leverage_url, body=ok({"market": self.exchange_trading_pair, "leverage": str(leverage)}),
                       callback=callback)

    # ------------------------------------------------------------------------------------------ adapted suite tests
    def test_get_buy_and_sell_collateral_tokens(self):
        self.assertEqual("USD", self.exchange.get_buy_collateral_token(self.trading_pair))
        self.assertEqual("USD", self.exchange.get_sell_collateral_token(self.trading_pair))

    @aioresponses()
    def test_set_position_mode_failure(self, mock_api):
        """Extended has no HEDGE mode: the switch is refused locally, no request is sent, ONEWAY stays."""
        self.exchange.set_position_mode(PositionMode.HEDGE)
        self.assertTrue(self.is_logged("ERROR", f"Position mode {PositionMode.HEDGE} is not supported. Mode not set."))
        self.assertEqual(PositionMode.ONEWAY, self.exchange.position_mode)
        success, message = self.async_run_with_timeout(
            self.exchange._trading_pair_position_mode_set(PositionMode.HEDGE, self.trading_pair))
        self.assertFalse(success)
        self.assertEqual(self.configure_failed_set_position_mode(PositionMode.HEDGE, mock_api)[1], message)
        self.assertEqual(0, len(mock_api.requests))

    @aioresponses()
    def test_set_position_mode_success(self, mock_api):
        """Asking for ONEWAY (the only mode) succeeds without a request; HEDGE is refused."""
        self.exchange.set_position_mode(PositionMode.ONEWAY)
        self.async_run_with_timeout(asyncio.sleep(0.05))
        self.assertTrue(self.is_logged("INFO", f"Position mode already set to {PositionMode.ONEWAY} on exchange."))
        self.exchange.set_position_mode(PositionMode.HEDGE)
        self.assertTrue(self.is_logged("ERROR", f"Position mode {PositionMode.HEDGE} is not supported. Mode not set."))
        self.assertEqual(PositionMode.ONEWAY, self.exchange.position_mode)
        self.assertEqual(0, len(mock_api.requests))

    @aioresponses()
    async def test_update_order_status_when_request_fails_marks_order_as_not_found(self, mock_api):
        """Venue difference: a failing status request (here a 500) says nothing about the order, so it does NOT count
        towards "not found" (Hummingbot's generic handler counts any error, and four 5xx in a row while Extended is
        degraded would declare a live order failed). Extended's own 404 does count: the inherited not-found tests."""
        self.exchange._set_current_timestamp(1640780000)
        self.exchange.start_tracking_order(
            order_id=self.client_order_id_prefix + "1", exchange_order_id=str(self.expected_exchange_order_id),
            trading_pair=self.trading_pair, order_type=OrderType.LIMIT, trade_type=TradeType.BUY,
            price=Decimal("10000"), amount=Decimal("1"))
        order: InFlightOrder = self.exchange.in_flight_orders[self.client_order_id_prefix + "1"]
        url = self.configure_http_error_order_status_response(order=order, mock_api=mock_api)
        for _ in range(5):  # more than Hummingbot's not-found limit
            await self.exchange._update_order_status()
        status_request = self._all_executed_requests(mock_api, url)[0]
        self.validate_auth_credentials_present(status_request)
        self.validate_order_status_request(order=order, request_call=status_request)
        self.assertTrue(order.is_open and not order.is_done)
        self.assertNotIn(order.client_order_id, self.exchange._order_tracker._order_not_found_records)
        self.assertIn(order.client_order_id, self.exchange.in_flight_orders)
        self.assertTrue(any(r.levelname == "WARNING" and "asked again at the next status update" in r.getMessage()
                            for r in self.log_records))

    @aioresponses()
    async def test_update_balances(self, mock_api):
        """Extended has one collateral balance: equity is the total, availableForTrade the available; a 404
        (the documented answer for a zero balance) means zero, not an error."""
        self._configure_balance_response(self.balance_request_mock_response_for_base_and_quote, mock_api)
        await self.exchange._update_balances()
        self.assertEqual(Decimal("2000"), self.exchange.get_balance(self.quote_asset))
        self.assertEqual(Decimal("2000"), self.exchange.available_balances[self.quote_asset])
        self.assertNotIn(self.base_asset, self.exchange.get_all_balances())

        mock_api.get(regex(self.balance_url), status=404, body=json.dumps(self.balance_request_mock_response_only_base))
        await self.exchange._update_balances()
        self.assertEqual(Decimal("0"), self.exchange.get_balance(self.quote_asset))
        self.assertEqual(Decimal("0"), self.exchange.available_balances[self.quote_asset])
        self.assertFalse(any(record.levelname == "ERROR" for record in self.log_records))

    async def test_user_stream_balance_update(self):
        """BALANCE (doc example): equity -> total, availableForTrade -> available, in the collateral token."""
        self.exchange._set_current_timestamp(1640780000)
        mock_queue = AsyncMock()
        mock_queue.get.side_effect = [self.balance_event_websocket_update, asyncio.CancelledError]
        self.exchange._user_stream_tracker._user_stream = mock_queue
        with self.assertRaises(asyncio.CancelledError):
            await self.exchange._user_stream_event_listener()
        self.assertEqual(Decimal("10"), self.exchange.available_balances[self.quote_asset])
        self.assertEqual(Decimal("15"), self.exchange.get_balance(self.quote_asset))


class ExtendedPerpetualTradingTests(IsolatedAsyncioWrapperTestCase):
    """Extended-specific behaviour: pricing, expiry, limits, fees, batching, stream ordering, errors."""

    pair = "BTC-USD"
    level = 0

    def setUp(self) -> None:
        super().setUp()
        self.log_records = []
        self.exchange = ExtendedPerpetualDerivative(
            extended_perpetual_api_key=API_KEY, extended_perpetual_stark_private_key=STARK_PRIVATE_KEY,
            extended_perpetual_stark_public_key=STARK_PUBLIC_KEY, extended_perpetual_vault_id=VAULT_ID,
            trading_pairs=[self.pair])
        self.exchange.logger().setLevel(1)
        self.exchange.logger().addHandler(self)
        self.exchange._order_tracker.logger().addHandler(self)
        self.exchange._set_trading_pair_symbol_map(bidict({self.pair: self.pair}))
        self.exchange._set_current_timestamp(1640780000)
        self.prepare_market(market_item())
        self.failures, self.fills, self.completed, self.cancelled = (EventLogger() for _ in range(4))
        for event, logger in ((MarketEvent.OrderFailure, self.failures), (MarketEvent.OrderFilled, self.fills),
                              (MarketEvent.BuyOrderCompleted, self.completed),
                              (MarketEvent.SellOrderCompleted, self.completed),
                              (MarketEvent.OrderCancelled, self.cancelled)):
            self.exchange.add_listener(event, logger)

    def tearDown(self) -> None:
        self.exchange.logger().removeHandler(self)
        self.exchange._order_tracker.logger().removeHandler(self)
        super().tearDown()

    def handle(self, record):
        self.log_records.append(record)

    def prepare_market(self, item: Dict[str, Any]):
        load_market(self.exchange, item)
        market = markets.parse_market(item)
        self.exchange._trading_rules[self.pair] = markets.trading_rule_from_market(market, self.pair)
        book = OrderBook()
        book.apply_snapshot([OrderBookRow(9999.0, 5.0, 1)], [OrderBookRow(10001.0, 5.0, 1)], 1)
        self.exchange.order_book_tracker._order_books[self.pair] = book
        self.exchange._perpetual_trading.initialize_funding_info(
            FundingInfo(self.pair, Decimal("10000.5"), Decimal("10000"), 1701563440, Decimal("0.0001")))

    def logged(self, level: str, fragment: str) -> bool:
        return any(r.levelname == level and fragment in r.getMessage() for r in self.log_records)

    def track(self, client_id: str = "HBOT-B1", exchange_id: Optional[str] = "1001", side=TradeType.BUY,
              amount: str = "1", price: str = "10000", action=PositionAction.OPEN) -> InFlightOrder:
        self.exchange.start_tracking_order(order_id=client_id, exchange_order_id=exchange_id, trading_pair=self.pair,
                                           trade_type=side, price=Decimal(price), amount=Decimal(amount),
                                           order_type=OrderType.LIMIT, position_action=action)
        return self.exchange.in_flight_orders[client_id]

    async def place(self, mock_api: aioresponses, order_type=OrderType.LIMIT, side=TradeType.BUY,
                    amount: str = "1", price: Decimal = Decimal("10000"), action=PositionAction.OPEN,
                    order_id: str = "HBOT-B1") -> Optional[Dict[str, Any]]:
        """Run the creation; returns the POSTed body, or None when nothing was sent."""
        url = web_utils.private_rest_url(CONSTANTS.ORDER_PATH_URL)
        sent_before = len(mock_api.requests.get(("POST", URL(url)), []))
        mock_api.post(url, body=ok({"id": 555, "externalId": order_id}))
        await self.exchange._create_order(side, order_id, self.pair, Decimal(amount), order_type, price,
                                          position_action=action)
        await asyncio.sleep(0)
        calls = mock_api.requests.get(("POST", URL(url)), [])[sent_before:]
        return json.loads(calls[0].kwargs["data"]) if calls else None

    async def feed(self, *stream_messages):
        queue = AsyncMock()
        queue.get.side_effect = list(stream_messages) + [asyncio.CancelledError]
        self.exchange._user_stream_tracker._user_stream = queue
        with self.assertRaises(asyncio.CancelledError):
            await self.exchange._user_stream_event_listener()
        await asyncio.sleep(0)

    @staticmethod
    def order_msg(order: InFlightOrder, status: str, filled: str = "0", reason: Optional[str] = None,
                  snapshot: bool = False, seq: int = 10) -> Dict[str, Any]:
        item = {"id": int(order.exchange_order_id or 1001), "accountId": 1, "externalId": order.client_order_id,
                "market": "BTC-USD", "type": "LIMIT", "side": order.trade_type.name, "status": status,
                "price": str(order.price), "averagePrice": str(order.price), "qty": str(order.amount),
                "filledQty": filled, "payedFee": "0", "reduceOnly": False, "postOnly": False,
                "createdTime": ORDER_TS_MS, "updatedTime": ORDER_TS_MS + 1}
        if reason:
            item["statusReason"] = reason
        data = {"orders": [item]}
        if snapshot:
            data["isSnapshot"] = True
        return {"type": "ORDER", "data": data, "ts": ORDER_TS_MS, "seq": seq}

    @staticmethod
    def trade(order: Optional[InFlightOrder], qty: str, trade_id: int = 77, trade_type: str = "TRADE",
              external: bool = True, order_id: int = 1001) -> Dict[str, Any]:
        item = {"id": trade_id, "accountId": 1, "market": "BTC-USD", "orderId": order_id, "side": "BUY",
                "price": "10000", "qty": qty, "value": str(Decimal(qty) * 10000), "fee": "0.25",
                "tradeType": trade_type, "createdTime": ORDER_TS_MS, "isTaker": True}
        if external and order is not None:
            item["externalOrderId"] = order.client_order_id
        return item

    def trade_msg(self, *trades, seq: int = 11) -> Dict[str, Any]:
        return {"type": "TRADE", "data": {"trades": list(trades)}, "ts": ORDER_TS_MS, "seq": seq}

    # ------------------------------------------------------------------------------------------ order placement
    @aioresponses()
    async def test_market_buy_priced_at_best_ask_plus_slippage_rounded_up_and_sent_ioc(self, mock_api):
        body = await self.place(mock_api, order_type=OrderType.MARKET, price=Decimal("NaN"))
        # 10001 * 1.0075 = 10076.0075 -> rounded up to the 0.0001 tick; mark 10000 * 1.05 = 10500 does not bind
        self.assertEqual(Decimal("10076.0075"), Decimal(body["price"]))
        self.assertEqual(("MARKET", "IOC"), (body["type"], body["timeInForce"]))
        self.assertFalse(body["postOnly"])

    @aioresponses()
    async def test_market_sell_priced_at_best_bid_minus_slippage_rounded_down(self, mock_api):
        self.prepare_market(dict(market_item(), tradingConfig=dict(market_item()["tradingConfig"], minPriceChange="1")))
        body = await self.place(mock_api, order_type=OrderType.MARKET, side=TradeType.SELL, price=Decimal("NaN"))
        self.assertEqual(Decimal("9924"), Decimal(body["price"]))  # 9999 * 0.9925 = 9924.0075 -> 9924

    @aioresponses()
    async def test_market_order_price_capped_at_mark_plus_five_percent(self, mock_api):
        self.exchange._perpetual_trading.initialize_funding_info(
            FundingInfo(self.pair, Decimal("9500"), Decimal("9500"), 1701563440, Decimal("0")))
        body = await self.place(mock_api, order_type=OrderType.MARKET, price=Decimal("NaN"))
        self.assertEqual(Decimal("9975"), Decimal(body["price"]))  # mark 9500 * 1.05, not 10076.0075

    @aioresponses()
    async def test_market_order_without_book_fails_with_reason_and_sends_nothing(self, mock_api):
        self.exchange.order_book_tracker._order_books[self.pair] = OrderBook()
        body = await self.place(mock_api, order_type=OrderType.MARKET, price=Decimal("NaN"))
        self.assertIsNone(body)
        self.assertIn("cannot be priced", self.failures.event_log[0].error_message)

    @aioresponses()
    async def test_limit_order_expiry_defaults_to_a_day_inside_the_network_maximum(self, mock_api):
        before_ms = int(time.time() * 1000)
        body = await self.place(mock_api)
        self.assertEqual("GTT", body["timeInForce"])
        self.assertAlmostEqual(before_ms + 89 * 86400000, body["expiryEpochMillis"], delta=5000)

    def test_testnet_default_expiry_and_configured_expiry(self):
        testnet = ExtendedPerpetualDerivative(
            extended_perpetual_api_key=API_KEY, extended_perpetual_stark_private_key=STARK_PRIVATE_KEY,
            extended_perpetual_stark_public_key=STARK_PUBLIC_KEY, extended_perpetual_vault_id=VAULT_ID,
            trading_pairs=[self.pair], domain=CONSTANTS.TESTNET_DOMAIN)
        self.assertEqual(27, testnet.limit_order_expiry_days)
        configured = ExtendedPerpetualDerivative(
            extended_perpetual_api_key=API_KEY, extended_perpetual_stark_private_key=STARK_PRIVATE_KEY,
            extended_perpetual_stark_public_key=STARK_PUBLIC_KEY, extended_perpetual_vault_id=VAULT_ID,
            extended_perpetual_limit_order_expiry_days=7, trading_pairs=[self.pair])
        self.assertEqual(7, configured.limit_order_expiry_days)

    @aioresponses()
    async def test_limit_maker_is_post_only_with_maker_fee_and_close_is_reduce_only(self, mock_api):
        self.exchange._fee_rates["BTC-USD"] = messages.MarketFees("BTC-USD", Decimal("0.0001"), Decimal("0.0004"))
        body = await self.place(mock_api, order_type=OrderType.LIMIT_MAKER, action=PositionAction.CLOSE)
        self.assertTrue(body["postOnly"])
        self.assertTrue(body["reduceOnly"])
        self.assertEqual(Decimal("0.0001"), Decimal(body["fee"]))

    @aioresponses()
    async def test_fee_cache_filled_by_one_request_and_used_without_rest_on_the_hot_path(self, mock_api):
        fees_url = regex(web_utils.private_rest_url(CONSTANTS.FEES_PATH_URL))
        mock_api.get(fees_url, body=ok([{"market": "BTC-USD", "makerFeeRate": "0.00002", "takerFeeRate": "0.0003"}]))
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.LEVERAGE_PATH_URL)),
                     body=ok([{"market": "BTC-USD", "leverage": "10"}]))
        await self.exchange._update_trading_fees()
        self.assertEqual(10, self.exchange.get_leverage(self.pair))
        requests_before = sum(len(calls) for calls in mock_api.requests.values())
        body = await self.place(mock_api)
        self.assertEqual(Decimal("0.0003"), Decimal(body["fee"]))
        self.assertEqual(requests_before + 1, sum(len(calls) for calls in mock_api.requests.values()))

    @aioresponses()
    async def test_fee_falls_back_to_default_fees_when_the_fee_request_fails(self, mock_api):
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.FEES_PATH_URL)), status=500, body=error(500, "x"))
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.LEVERAGE_PATH_URL)), status=500, body=error(500, "x"))
        await self.exchange._update_trading_fees()
        body = await self.place(mock_api)
        self.assertEqual(Decimal("0.00025"), Decimal(body["fee"]))
        self.assertTrue(self.logged("WARNING", "Could not read the Extended fee rates"))
        self.assertTrue(self.logged("WARNING", "Could not read the Extended leverage settings"))

    @aioresponses()
    async def test_reduce_only_market_refuses_opening_orders_locally_but_accepts_closes(self, mock_api):
        self.prepare_market(market_item(status="REDUCE_ONLY"))
        self.assertIsNone(await self.place(mock_api, action=PositionAction.OPEN))
        self.assertIn("REDUCE_ONLY", self.failures.event_log[0].error_message)
        body = await self.place(mock_api, action=PositionAction.CLOSE, order_id="HBOT-B2")
        self.assertTrue(body["reduceOnly"])

    @aioresponses()
    async def test_reduce_only_market_accepts_oneway_closes_sent_as_open_orders(self, mock_api):
        """Hummingbot's PositionExecutor closes a long in ONEWAY mode with an OPEN-action SELL: on a REDUCE_ONLY market
        it is sent reduce-only; a sell larger than the position, or a buy adding to it, is still refused."""
        self.prepare_market(market_item(status="REDUCE_ONLY"))
        self.exchange._perpetual_trading.set_position(self.pair, Position(
            self.pair, PositionSide.LONG, Decimal("0"), Decimal("10000"), Decimal("2"), Decimal("5")))
        body = await self.place(mock_api, side=TradeType.SELL, amount="2", action=PositionAction.OPEN,
                                order_id="HBOT-S1")
        self.assertTrue(body["reduceOnly"])
        self.assertIsNone(await self.place(mock_api, side=TradeType.SELL, amount="3", order_id="HBOT-S2"))
        self.assertIsNone(await self.place(mock_api, side=TradeType.BUY, amount="1", order_id="HBOT-B3"))
        self.assertEqual(2, len(self.failures.event_log))

    def sign_limit_buy(self, order_id: str) -> Dict[str, Any]:
        return self.exchange._signed_order_body(order_id, self.pair, Decimal("1"), TradeType.BUY, OrderType.LIMIT,
                                                Decimal("10000"), PositionAction.OPEN)

    def test_a_nonce_drawn_again_is_never_sent_twice(self):
        self.exchange._nonce_pool[:] = [5, 7, 5]  # drawn from the end: 5, 7, then 5 again
        nonces = [int(self.sign_limit_buy(f"HBOT-N{k}")["nonce"]) for k in range(3)]
        self.assertEqual([5, 7], nonces[:2])
        self.assertNotIn(nonces[2], (5, 7))
        self.assertTrue(1 <= nonces[2] <= 2 ** 31)

    def test_the_memory_of_recent_nonces_is_bounded(self):
        recent = self.exchange._recent_nonces
        recent.update(range(10 ** 6, 10 ** 6 + 100_000))
        self.exchange._nonce_pool[:] = [9, 8]
        nonce = int(self.sign_limit_buy("HBOT-N1")["nonce"])
        self.assertEqual({nonce}, recent)  # full: forgotten, then the new one remembered
        self.assertEqual({nonce, int(self.sign_limit_buy("HBOT-N2")["nonce"])}, recent)

    @aioresponses()
    async def test_order_value_above_market_maximum_refused_locally(self, mock_api):
        config = dict(market_item()["tradingConfig"], maxLimitOrderValue="5000")
        self.prepare_market(dict(market_item(), tradingConfig=config))
        self.assertIsNone(await self.place(mock_api))
        self.assertIn("exceeds the BTC-USD maximum order value 5000", self.failures.event_log[0].error_message)

    @aioresponses()
    async def test_two_hundred_open_orders_in_the_market_refused_locally(self, mock_api):
        self.exchange._open_orders_by_market["BTC-USD"] = {str(i) for i in range(200)}
        self.assertIsNone(await self.place(mock_api))
        self.assertIn("200 open orders", self.failures.event_log[0].error_message)

    @aioresponses()
    async def test_open_order_count_follows_the_account_stream_including_other_bots_orders(self, mock_api):
        foreign = [{"id": 9000 + i, "accountId": 1, "externalId": f"ui-{i}", "market": "BTC-USD", "type": "LIMIT",
                    "side": "BUY", "status": "NEW", "price": "9000", "qty": "0.1", "filledQty": "0",
                    "createdTime": ORDER_TS_MS, "updatedTime": ORDER_TS_MS} for i in range(200)]
        await self.feed({"type": "ORDER", "data": {"isSnapshot": True, "orders": foreign}, "ts": 1, "seq": 1})
        self.assertIsNone(await self.place(mock_api))
        self.assertIn("200 open orders", self.failures.event_log[0].error_message)
        await self.feed({"type": "ORDER", "data": {"orders": [dict(foreign[0], status="CANCELLED")]}, "ts": 2,
                         "seq": 2})
        self.assertIsNotNone(await self.place(mock_api, order_id="HBOT-B2"))

    async def test_unmappable_position_action_ends_in_a_failure_event(self):
        await self.exchange._create_order(TradeType.BUY, "HBOT-B9", self.pair, Decimal("1"), OrderType.LIMIT,
                                          Decimal("10000"), position_action=PositionAction.NIL)
        await asyncio.sleep(0)
        self.assertEqual("HBOT-B9", self.failures.event_log[0].order_id)
        self.assertIn("use OPEN or CLOSE", self.failures.event_log[0].error_message)

    @aioresponses()
    async def test_documented_error_codes_become_clear_failure_messages(self, mock_api):
        url = web_utils.private_rest_url(CONSTANTS.ORDER_PATH_URL)
        mock_api.post(url, status=400, body=error(1140, "New order cost exceeds available balance"))
        mock_api.post(url, status=400, body=error(1101, "Invalid Starknet signature"))
        for order_id in ("HBOT-B1", "HBOT-B2"):
            await self.exchange._create_order(TradeType.BUY, order_id, self.pair, Decimal("1"), OrderType.LIMIT,
                                              Decimal("10000"), position_action=PositionAction.OPEN)
        await asyncio.sleep(0)
        self.assertIn("OrderCostExceedsBalance: not enough available balance", self.failures.event_log[0].error_message)
        self.assertIn("InvalidStarknetSignature: check the Stark private key", self.failures.event_log[1].error_message)

    @aioresponses()
    async def test_lost_creation_answer_keeps_the_order_tracked_for_lookup(self, mock_api):
        mock_api.post(web_utils.private_rest_url(CONSTANTS.ORDER_PATH_URL), exception=asyncio.TimeoutError())
        await self.exchange._create_order(TradeType.BUY, "HBOT-B1", self.pair, Decimal("1"), OrderType.LIMIT,
                                          Decimal("10000"), position_action=PositionAction.OPEN)
        await asyncio.sleep(0)
        self.assertIn("HBOT-B1", self.exchange.in_flight_orders)
        self.assertEqual(0, len(self.failures.event_log))

    @aioresponses()
    async def test_rate_limit_answer_backs_off_through_sleep_and_doubles(self, mock_api):
        url = regex(self.balance_url())
        mock_api.get(url, status=429, body=error(429, "Rate limited"), repeat=True)
        sleeps = []
        with patch.object(ExtendedPerpetualDerivative, "_sleep", new=AsyncMock(side_effect=sleeps.append)):
            for _ in range(3):
                with self.assertRaises(messages.ExtendedAPIError) as raised:
                    await self.exchange._update_balances()
                self.assertTrue(raised.exception.is_rate_limited)
        self.assertEqual(2, len(sleeps))
        self.assertGreater(sleeps[1], sleeps[0])
        self.assertTrue(self.logged("WARNING", "rate limit reached (HTTP 429)"))

    @aioresponses()
    async def test_order_during_rate_limit_back_off_fails_at_once_without_a_request(self, mock_api):
        self.exchange._rate_limited_until = time.time() + 30
        self.assertIsNone(await self.place(mock_api))
        self.assertIn("rate limit back-off in progress", self.failures.event_log[0].error_message)
        self.assertEqual(0, len(mock_api.requests))

    @staticmethod
    def balance_url() -> str:
        return web_utils.private_rest_url(CONSTANTS.BALANCE_PATH_URL)

    # ------------------------------------------------------------------------------------------ cancel
    @aioresponses()
    async def test_cancel_by_external_id_stays_pending_until_stream_and_counts_a_late_fill(self, mock_api):
        order = self.track()
        mock_api.delete(regex(web_utils.private_rest_url(CONSTANTS.ORDER_PATH_URL), r"\?externalId=HBOT-B1$"),
                        body=json.dumps({"status": "OK"}))
        self.assertEqual("HBOT-B1", await self.exchange._execute_cancel(self.pair, "HBOT-B1"))
        await asyncio.sleep(0)
        self.assertTrue(order.is_pending_cancel_confirmation)
        await self.feed(self.trade_msg(self.trade(order, "0.4")), self.order_msg(order, "CANCELLED", "0.4", "NONE"))
        await asyncio.sleep(0)
        self.assertEqual(Decimal("0.4"), self.fills.event_log[0].amount)
        self.assertTrue(order.is_cancelled)
        self.assertEqual(1, len(self.cancelled.event_log))

    @aioresponses()
    async def test_cancel_all_touches_only_this_bots_orders_one_request_each_never_mass_cancel(self, mock_api):
        self.track("HBOT-B1", "1001")
        self.track("HBOT-B2", "1002")
        self.exchange._open_orders_by_market["BTC-USD"] = {"1001", "1002", "9001", "9002"}  # 9xxx: UI / other bot
        mock_api.delete(regex(web_utils.private_rest_url(CONSTANTS.ORDER_PATH_URL), r"\?externalId="),
                        body=json.dumps({"status": "OK"}), repeat=True)
        results = await self.exchange.cancel_all(timeout_seconds=1)
        self.assertEqual({"HBOT-B1", "HBOT-B2"}, {result.order_id for result in results if result.success})
        calls = [call for (method, _), calls in mock_api.requests.items() for call in calls]
        self.assertEqual(2, len(calls))
        self.assertEqual({"HBOT-B1", "HBOT-B2"}, {call.kwargs["params"]["externalId"] for call in calls})
        self.assertFalse(any("massCancel" in str(url) for _, url in mock_api.requests))

    async def test_base_url_override_is_logged_at_start(self):
        with patch.dict(os.environ, {CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR: "http://127.0.0.1:8765"}), \
                patch.object(PerpetualDerivativePyBase, "start_network", new=AsyncMock()):
            await self.exchange.start_network()
        self.assertTrue(self.logged("WARNING", "http://127.0.0.1:8765/api/v1"))

    # ------------------------------------------------------------------------------------------ REST polling
    @aioresponses()
    async def test_status_poll_is_batched_one_open_orders_one_trades_and_lookups_only_for_missing(self, mock_api):
        orders = [self.track(f"HBOT-B{i}", str(1000 + i)) for i in range(1, 4)]
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.OPEN_ORDERS_PATH_URL), r"(\?|$)"),
                     body=ok([self.order_msg(o, "NEW")["data"]["orders"][0] for o in orders[:2]]))
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.TRADES_PATH_URL)), body=ok([]))
        missing_url = regex(web_utils.private_rest_url(
            CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH_URL.format(external_id="HBOT-B3")), "$")
        mock_api.get(missing_url, body=ok([self.order_msg(orders[2], "CANCELLED", reason="NONE")["data"]["orders"][0]]))
        await self.exchange._update_order_status()
        await asyncio.sleep(0)
        self.assertEqual(3, sum(len(calls) for calls in mock_api.requests.values()))
        self.assertTrue(orders[0].is_open and orders[1].is_open)
        self.assertTrue(orders[2].is_cancelled)

    @aioresponses()
    async def test_steady_state_with_a_live_stream_is_four_requests_every_two_minutes(self, mock_api):
        orders = [self.track(f"HBOT-B{i}", str(1000 + i)) for i in range(1, 6)]
        now = time.time()
        self.exchange._user_stream_tracker.data_source._ws_assistant = MagicMock(last_recv_time=now - 10)
        self.assertEqual(120.0, self.exchange._get_poll_interval(now))
        self.exchange._user_stream_tracker.data_source._ws_assistant = MagicMock(last_recv_time=now - 100)
        self.assertEqual(5.0, self.exchange._get_poll_interval(now))  # a silent stream: REST takes over
        open_orders = [self.order_msg(o, "NEW")["data"]["orders"][0] for o in orders]
        for path, data in ((CONSTANTS.OPEN_ORDERS_PATH_URL, open_orders),
                           (CONSTANTS.TRADES_PATH_URL, []), (CONSTANTS.POSITIONS_PATH_URL, []),
                           (CONSTANTS.BALANCE_PATH_URL, self.usd_balance())):
            mock_api.get(regex(web_utils.private_rest_url(path), r"(\?|$)"), body=ok(data))
        await self.exchange._status_polling_loop_fetch_updates()
        self.assertEqual(4, sum(len(calls) for calls in mock_api.requests.values()))
        self.assertTrue(all(order.is_open for order in orders))

    @staticmethod
    def usd_balance() -> Dict[str, Any]:
        return {"collateralName": "USD", "balance": "10", "equity": "10", "availableForTrade": "10",
                "availableForWithdrawal": "10", "unrealisedPnl": "0", "initialMargin": "0", "marginRatio": "0",
                "exposure": "0", "leverage": "0", "updatedTime": 1}

    @aioresponses()
    async def test_fill_recovery_pages_back_to_the_order_creation(self, mock_api):
        """A busy account: a full page of other trades since the order; its fill is on the next page (cursor).
        Paging stops at the page reaching back before the order's creation."""
        order = self.track()
        url = regex(web_utils.private_rest_url(CONSTANTS.TRADES_PATH_URL))
        others = [dict(self.trade(None, "0.01", trade_id=10_000 - k, order_id=5), createdTime=ORDER_TS_MS + 60_000)
                  for k in range(derivative_module.TRADES_REQUEST_LIMIT)]
        mock_api.get(url, body=json.dumps({"status": "OK", "data": others,
                                           "pagination": {"cursor": others[-1]["id"], "count": len(others)}}))
        created_ms = int(order.creation_timestamp * 1000)
        older = dict(self.trade(None, "0.01", trade_id=3, order_id=6), createdTime=created_ms - 3_600_000)
        page = [self.trade(order, "0.4")] + [older] * (derivative_module.TRADES_REQUEST_LIMIT - 1)
        mock_api.get(url, body=json.dumps({"status": "OK", "data": page, "pagination": {"cursor": 3, "count": 200}}))
        mock_api.get(url, body=ok([]))  # never reached
        await self.exchange._update_orders_fills([order])
        self.assertEqual(Decimal("0.4"), order.executed_amount_base)
        requests = [call for key, calls in mock_api.requests.items() for call in calls if "trades" in str(key[1])]
        self.assertEqual(2, len(requests))
        self.assertIn(("cursor", str(others[-1]["id"])), requests[1].kwargs["params"])

    @aioresponses()
    async def test_fill_seen_on_stream_and_over_rest_is_counted_once(self, mock_api):
        order = self.track()
        await self.feed(self.trade_msg(self.trade(order, "0.4")))
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.TRADES_PATH_URL)),
                     body=ok([self.trade(order, "0.4", external=False)]))
        await self.exchange._update_orders_fills([order])
        self.assertEqual(1, len(self.fills.event_log))
        self.assertEqual(Decimal("0.4"), order.executed_amount_base)

    @aioresponses()
    async def test_positions_and_funding_payments_over_rest(self, mock_api):
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.POSITIONS_PATH_URL)), body=ok([{
            "id": 1, "accountId": 1, "market": "BTC-USD", "side": "SHORT", "leverage": "10", "size": "0.1",
            "value": "4000", "openPrice": "39000", "markPrice": "40000", "liquidationPrice": "38200", "margin": "20",
            "unrealisedPnl": "-100", "realisedPnl": "1.2", "adl": "2.5", "maxPositionSize": "0.2",
            "createdTime": 1701563440000, "updatedTime": 1701563440}]))
        await self.exchange._update_positions()
        position = self.exchange.account_positions[self.pair]
        self.assertEqual((Decimal("-0.1"), Decimal("39000"), Decimal("-100"), Decimal("10")),
                         (position.amount, position.entry_price, position.unrealized_pnl, position.leverage))
        funding_url = regex(web_utils.private_rest_url(CONSTANTS.FUNDING_PAYMENTS_PATH_URL))
        mock_api.get(funding_url, body=ok([{"id": 8341, "accountId": 3137, "market": "BTC-USD", "positionId": 1,
                                            "side": "SHORT", "size": "0.1", "value": "4000", "markPrice": "40000",
                                            "fundingFee": "-1.5", "fundingRate": "0.0001",
                                            "paidTime": 1723147241346}]))
        # a short receives a positive rate, whatever sign the wire gives the fee
        self.assertEqual((1723147241.346, Decimal("0.0001"), Decimal("1.5")),
                         await self.exchange._fetch_last_fee_payment(self.pair))
        params = dict(next(iter(mock_api.requests[("GET", key)] for method, key in mock_api.requests
                                if "funding" in str(key)))[0].kwargs["params"])
        self.assertIn("fromTime", params)

    @staticmethod
    def position_item(size: str, side: str = "LONG") -> Dict[str, Any]:
        return {"id": 1, "accountId": 1, "market": "BTC-USD", "side": side, "leverage": "5", "size": size,
                "value": "1", "openPrice": "10000", "markPrice": "10000", "margin": "1", "unrealisedPnl": "0",
                "realisedPnl": "0", "createdTime": ORDER_TS_MS, "updatedTime": ORDER_TS_MS}

    def answer_after_stream(self, stream_message: Dict[str, Any], rest_data: Any) -> Callable:
        """An aioresponses callback: the stream message arrives while the REST request is under way."""
        async def callback(url, **kwargs):
            await self.exchange._process_account_message(messages.parse_stream_message(stream_message))
            return CallbackResult(body=ok(rest_data))
        return callback

    @aioresponses()
    async def test_positions_answer_older_than_a_stream_update_does_not_erase_the_position(self, mock_api):
        """The positions request leaves before an order fills; the stream reports the new position while the request
        is under way; the answer (no position) must not erase it, and a later answer applies as usual."""
        url = regex(web_utils.private_rest_url(CONSTANTS.POSITIONS_PATH_URL))
        fill = {"type": "POSITION", "data": {"positions": [self.position_item("0.5")]}, "ts": ORDER_TS_MS, "seq": 4}
        mock_api.get(url, callback=self.answer_after_stream(fill, []))
        await self.exchange._update_positions()
        self.assertEqual(Decimal("0.5"), self.exchange.account_positions[self.pair].amount)
        mock_api.get(url, body=ok([self.position_item("0.7")]))
        await self.exchange._update_positions()
        self.assertEqual(Decimal("0.7"), self.exchange.account_positions[self.pair].amount)
        mock_api.get(url, body=ok([]))
        await self.exchange._update_positions()
        self.assertEqual({}, self.exchange.account_positions)

    @aioresponses()
    async def test_balance_answer_older_than_a_stream_update_is_dropped(self, mock_api):
        url = web_utils.private_rest_url(CONSTANTS.BALANCE_PATH_URL)
        streamed = dict(self.usd_balance(), equity="8", availableForTrade="3")
        message = {"type": "BALANCE", "data": {"balance": streamed}, "ts": ORDER_TS_MS, "seq": 4}
        mock_api.get(url, callback=self.answer_after_stream(message, self.usd_balance()))
        await self.exchange._update_balances()
        self.assertEqual((Decimal("8"), Decimal("3")),
                         (self.exchange.get_balance("USD"), self.exchange.available_balances["USD"]))
        mock_api.get(url, body=ok(self.usd_balance()))
        await self.exchange._update_balances()
        self.assertEqual(Decimal("10"), self.exchange.available_balances["USD"])

    async def test_a_position_in_a_market_that_stopped_trading_stays_reported(self):
        """ETH-USD becomes DISABLED: it leaves the tradable pairs, but the account's ETH position is still there and
        still shown (a snapshot does not drop it as unknown)."""
        self.exchange._initialize_trading_pair_symbols_from_exchange_info(
            {"status": "OK", "data": [market_item(), market_item("ETH-USD", "ETH", status="DISABLED")]})
        self.assertEqual({"BTC-USD"}, set(self.exchange._symbol_map.values()))

        def position(market: str) -> Dict[str, Any]:
            return {"id": 1, "accountId": 1, "market": market, "side": "LONG", "leverage": "5", "size": "2",
                    "value": "6000", "openPrice": "3000", "markPrice": "3000", "margin": "1200",
                    "unrealisedPnl": "0", "realisedPnl": "0", "createdTime": 1701563440000, "updatedTime": 1701563440}
        self.exchange._apply_positions([messages.parse_position(position("ETH-USD")),
                                        messages.parse_position(position("BTC-USD"))], is_snapshot=True)
        self.exchange._apply_positions([messages.parse_position(position("ETH-USD"))], is_snapshot=True)
        self.assertEqual(["ETH-USD"], [p.trading_pair for p in self.exchange.account_positions.values()])
        self.assertEqual(Decimal("2"), next(iter(self.exchange.account_positions.values())).amount)

    @aioresponses()
    async def test_every_funding_payment_since_the_last_read_is_reported_oldest_first(self, mock_api):
        """A poll that failed (or streams that were down) leaves three hourly payments to report: each one gets
        its event, in time order; the one reported before is not reported again."""
        hour_ms = 3_600_000

        def payment(hour: int, fee: str) -> Dict[str, Any]:
            return {"id": hour, "accountId": 1, "market": "BTC-USD", "positionId": 1, "side": "SHORT", "size": "0.1",
                    "value": "4000", "markPrice": "40000", "fundingFee": fee, "fundingRate": "0.0001",
                    "paidTime": hour * hour_ms}
        funding_url = regex(web_utils.private_rest_url(CONSTANTS.FUNDING_PAYMENTS_PATH_URL))
        payments = EventLogger()
        self.exchange.add_listener(MarketEvent.FundingPaymentCompleted, payments)
        mock_api.get(funding_url, body=ok([payment(100, "-1")]))
        await self.exchange._update_all_funding_payments(fire_event_on_new=False)  # start-up: the last one, no event
        mock_api.get(funding_url, body=ok([payment(102, "-3"), payment(100, "-1"), payment(101, "-2")]))
        await self.exchange._update_all_funding_payments(fire_event_on_new=True)
        self.assertEqual([(101 * 3600.0, Decimal("2")), (102 * 3600.0, Decimal("3"))],
                         [(event.timestamp, event.amount) for event in payments.event_log])

    def test_funding_payment_direction_follows_side_and_rate(self):
        item = {"id": 1, "market": "BTC-USD", "side": "LONG", "fundingFee": "2.5", "fundingRate": "0.0001",
                "paidTime": 1723147241346}
        self.assertEqual(Decimal("-2.5"), messages.parse_funding_payment(item).amount)  # long pays a positive rate
        self.assertEqual(Decimal("2.5"), messages.parse_funding_payment(dict(item, fundingFee="-2.5",
                                                                             fundingRate="-0.0001")).amount)

    @aioresponses()
    async def test_a_funding_seen_on_the_funding_stream_triggers_a_payment_poll_a_few_seconds_later(self, mock_api):
        mock_api.get(web_utils.public_rest_url(CONSTANTS.MARKETS_PATH_URL), body=ok([market_item()]))
        applied_funding = (self.pair, {"ts": 1640780000500, "data": {"m": "BTC-USD", "T": 1640780000500, "f": "0.0001"},
                                       "seq": 2})
        mark_price = (self.pair, {"type": "MP", "data": {"m": "BTC-USD", "p": "10001", "ts": 1}, "ts": 1, "seq": 3})
        funding_queue = self.exchange._orderbook_ds._message_queue[
            self.exchange._orderbook_ds._funding_info_messages_queue_key]
        self.exchange.tick(1640780000)
        self.exchange._funding_fee_poll_notifier.clear()
        listener = asyncio.ensure_future(self.exchange._listen_for_funding_info())
        funding_queue.put_nowait(mark_price)
        await asyncio.wait_for(self._until(lambda: funding_queue.empty()), 1)
        self.assertIsNone(self.exchange._funding_poll_due)  # a mark price is not a funding
        funding_queue.put_nowait(applied_funding)
        await asyncio.wait_for(self._until(lambda: self.exchange._funding_poll_due is not None), 1)
        listener.cancel()
        self.exchange.tick(1640780001)
        self.assertFalse(self.exchange._funding_fee_poll_notifier.is_set())
        self.exchange.tick(1640780005)
        self.assertTrue(self.exchange._funding_fee_poll_notifier.is_set())

    async def test_funding_message_on_the_account_stream_triggers_a_payment_poll(self):
        await self.feed({"type": "FUNDING", "data": {}, "ts": 1, "seq": 4})
        self.assertEqual(self.exchange.current_timestamp + 5.0, self.exchange._funding_poll_due)

    @staticmethod
    async def _until(condition):
        while not condition():
            await asyncio.sleep(0)

    # ------------------------------------------------------------------------------------------ account stream
    async def test_filled_order_before_its_trade_completes_with_the_fill(self):
        order = self.track()
        await self.feed(self.order_msg(order, "FILLED", "1"), self.trade_msg(self.trade(order, "1")))
        await asyncio.wait_for(order.wait_until_completely_filled(), 1)
        await asyncio.sleep(0.01)
        self.assertEqual(1, len(self.fills.event_log))
        self.assertEqual(Decimal("1"), self.completed.event_log[0].base_asset_amount)

    async def test_trade_before_its_filled_order_completes_with_the_fill(self):
        order = self.track()
        await self.feed(self.trade_msg(self.trade(order, "1")), self.order_msg(order, "FILLED", "1"))
        await asyncio.sleep(0.01)
        self.assertEqual(1, len(self.fills.event_log))
        self.assertEqual(1, len(self.completed.event_log))

    async def test_post_only_reject_surfaces_as_failure_with_reason(self):
        order = self.track()
        await self.feed(self.order_msg(order, "REJECTED", reason="POST_ONLY_FAILED"))
        await asyncio.sleep(0)
        self.assertIn("POST_ONLY_FAILED", self.failures.event_log[0].error_message)
        self.assertEqual("POST_ONLY_FAILED", self.failures.event_log[0].error_type)

    async def test_expired_order_is_closed_and_logged(self):
        order = self.track()
        await self.feed(self.order_msg(order, "EXPIRED"))
        await asyncio.sleep(0)
        self.assertTrue(order.is_cancelled)
        self.assertTrue(self.logged("INFO", "expired on Extended"))

    @aioresponses()
    async def test_order_missing_from_snapshot_is_looked_up_by_external_id_not_assumed_cancelled(self, mock_api):
        listed, missing = self.track("HBOT-B1", "1001"), self.track("HBOT-B2", "1002")
        url = regex(web_utils.private_rest_url(CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH_URL.format(external_id="HBOT-B2")))
        mock_api.get(url, body=ok([self.order_msg(missing, "PARTIALLY_FILLED", "0.5")["data"]["orders"][0]]))
        await self.feed(self.order_msg(listed, "NEW", snapshot=True, seq=1))
        await asyncio.sleep(0.01)
        self.assertEqual(1, len(mock_api.requests))
        self.assertFalse(missing.is_done)
        self.assertEqual(OrderState.PARTIALLY_FILLED, missing.current_state)

    @aioresponses()
    async def test_reconnection_marker_reconciles_orders_trades_positions_and_balance_over_rest(self, mock_api):
        self.track()
        for path in (CONSTANTS.OPEN_ORDERS_PATH_URL, CONSTANTS.TRADES_PATH_URL, CONSTANTS.POSITIONS_PATH_URL,
                     CONSTANTS.BALANCE_PATH_URL):
            mock_api.get(regex(web_utils.private_rest_url(path), r"(\?|$)"), body=ok([]))
        mock_api.get(regex(web_utils.private_rest_url("/user/orders/external/")), body=ok([]))
        mock_api.get(regex(web_utils.private_rest_url(CONSTANTS.ORDERS_HISTORY_PATH_URL)), body=ok([]))
        await self.feed(messages.reconcile_message("account stream reconnected"))
        await asyncio.sleep(0.05)
        paths = {str(key.path) for _, key in mock_api.requests}
        for path in (CONSTANTS.OPEN_ORDERS_PATH_URL, CONSTANTS.TRADES_PATH_URL, CONSTANTS.POSITIONS_PATH_URL,
                     CONSTANTS.BALANCE_PATH_URL):
            self.assertIn("/api/v1" + path, paths)

    async def test_live_probe_snapshots_set_balance_and_clear_positions(self):
        self.exchange._perpetual_trading.set_position(self.pair, Position(
            self.pair, PositionSide.LONG, Decimal("0"), Decimal("1"), Decimal("1"), Decimal("1")))
        await self.feed(
            {"type": "ORDER", "data": {"isSnapshot": True, "orders": []}, "ts": 1763797802075, "seq": 1},
            {"type": "BALANCE", "data": {"isSnapshot": True, "balance": {
                "collateralName": "USD", "balance": "7.667333", "status": "ACTIVE", "equity": "7.667333",
                "availableForTrade": "7.667333", "availableForWithdrawal": "7.667333", "unrealisedPnl": "0.000000",
                "initialMargin": "0.000000", "marginRatio": "0", "updatedTime": 1762927892866, "exposure": "0",
                "leverage": "0.0000"}}, "ts": 1763797802075, "seq": 2},
            {"type": "POSITION", "data": {"isSnapshot": True, "positions": []}, "ts": 1763797802075, "seq": 3})
        self.assertEqual(Decimal("7.667333"), self.exchange.get_balance("USD"))
        self.assertEqual(Decimal("7.667333"), self.exchange.available_balances["USD"])
        self.assertEqual({}, self.exchange.account_positions)

    async def test_liquidation_and_foreign_trades_update_the_position_without_errors_or_fills(self):
        position = {"id": 1, "accountId": 1, "market": "BTC-USD", "side": "SHORT", "leverage": "5.0", "size": "0.3",
                    "value": "12751.8596295830", "openPrice": "42508.00", "markPrice": "42506.1987652769",
                    "liquidationPrice": "75816.37", "margin": "637.59", "unrealisedPnl": "100.000000",
                    "realisedPnl": "200.000000", "adl": 1, "createdAt": 1715886365748, "updatedAt": 1715886365748}
        await self.feed(
            self.trade_msg(self.trade(None, "0.09", trade_type="LIQUIDATION", order_id=9)),
            self.trade_msg({"id": 1784963886257016832, "accountId": 3017, "market": "BTC-USD",
                            "orderId": 9223372036854775808, "externalOrderId": "ext-1", "side": "BUY",
                            "price": "58853.4000000000000000", "qty": "0.0900000000000000",
                            "value": "5296.8060000000000000", "fee": "0.0000000000000000", "tradeType": "DELEVERAGE",
                            "createdTime": 1701563440000, "isTaker": True}),
            {"type": "POSITION", "data": {"positions": [position]}, "ts": 1715886365748, "seq": 12},
            {"type": "POSITION", "data": {"positions": [dict(position, size="0")]}, "ts": 1715886365749, "seq": 13})
        self.assertEqual(0, len(self.fills.event_log))
        self.assertFalse(any(r.levelname == "ERROR" for r in self.log_records))
        self.assertEqual({}, self.exchange.account_positions)

    async def test_position_update_sets_side_size_entry_pnl_and_leverage(self):
        await self.feed({"type": "POSITION", "data": {"positions": [{
            "id": 1, "accountId": 1, "market": "BTC-USD", "side": "SHORT", "leverage": "5.0", "size": "0.3",
            "value": "1", "openPrice": "42508.00", "markPrice": "1", "liquidationPrice": "1", "margin": "1",
            "unrealisedPnl": "100.000000", "realisedPnl": "0", "adl": 1}]}, "ts": 1, "seq": 1})
        position = self.exchange.account_positions[self.pair]
        self.assertEqual((PositionSide.SHORT, Decimal("-0.3"), Decimal("42508.00"), Decimal("100"), Decimal("5")),
                         (position.position_side, position.amount, position.entry_price, position.unrealized_pnl,
                          position.leverage))
        self.assertEqual(5, self.exchange.get_leverage(self.pair))  # the budget checker uses the real leverage

    async def test_unknown_and_malformed_messages_are_logged_and_the_listener_lives_on(self):
        order = self.track()
        with patch.object(self.exchange, "_reconcile_account", new=AsyncMock()) as reconcile:
            await self.feed({"type": "NEWS", "data": {}}, {"type": "ORDER", "data": {"orders": [{"id": 1}]}},
                            {"type": "BALANCE", "data": {"balance": "?"}}, self.trade_msg(self.trade(order, "0.2")))
        self.assertEqual(2, sum(r.getMessage() == "Unexpected error in user stream listener loop."
                                for r in self.log_records))  # the unknown type, the unreadable balance
        self.assertTrue(self.logged("WARNING", "1 item(s) could not be read and were skipped"))
        self.assertEqual(1, reconcile.await_count)  # what the unreadable order said is read over REST
        self.assertEqual(Decimal("0.2"), self.fills.event_log[0].amount)

    async def test_an_unreadable_item_does_not_cost_the_other_items_of_its_message(self):
        """An ORDER snapshot holding an order this connector cannot read (a UI TP/SL without qty) and ours, now open:
        ours is applied, the other skipped and reconciled over REST; the snapshot is not taken as the whole truth
        (what it lacks may be what could not be read)."""
        order = self.track(client_id="HBOT-B1", exchange_id="1001")
        message = self.order_msg(order, "NEW", snapshot=True)
        message["data"]["orders"].insert(0, {"id": 9, "externalId": "ui-tpsl", "market": "BTC-USD", "type": "TPSL",
                                             "side": "SELL", "status": "UNTRIGGERED"})
        self.exchange._open_orders_by_market["ETH-USD"] = {"4242"}
        with patch.object(self.exchange, "_reconcile_account", new=AsyncMock()) as reconcile:
            await self.feed(message)
        self.assertEqual(OrderState.OPEN, order.current_state)
        self.assertTrue(self.logged("WARNING", "missing field 'qty'"))
        self.assertEqual(1, reconcile.await_count)
        self.assertEqual({"4242"}, self.exchange._open_orders_by_market["ETH-USD"])  # not wiped as by a snapshot

    # ------------------------------------------------------------------------------------------ secrets
    def test_no_secret_in_repr_or_logs(self):
        text = repr(self.exchange) + repr(self.exchange._auth) + repr(self.exchange._credentials) + repr(
            self.exchange._stark_account) + " ".join(r.getMessage() for r in self.log_records)
        for secret in (API_KEY, STARK_PRIVATE_KEY, str(int(STARK_PRIVATE_KEY, 16))):
            self.assertNotIn(secret, text)


class NetworkCheckTests(IsolatedAsyncioWrapperTestCase):
    """``check_network`` answers from the streams while they are healthy; REST (``/info/markets``) otherwise."""

    NOW = 1700000000.0

    def make_exchange(self, trading_required: bool = True) -> ExtendedPerpetualDerivative:
        credentials = dict(extended_perpetual_api_key=API_KEY, extended_perpetual_stark_private_key=STARK_PRIVATE_KEY,
                           extended_perpetual_stark_public_key=STARK_PUBLIC_KEY, extended_perpetual_vault_id=VAULT_ID)
        exchange = ExtendedPerpetualDerivative(**(credentials if trading_required else {}), trading_pairs=["BTC-USD"],
                                               trading_required=trading_required)
        exchange._time = lambda: self.NOW
        return exchange

    @staticmethod
    def public_stream_heard(exchange: ExtendedPerpetualDerivative, at: float):
        exchange._orderbook_ds._live_sockets.add(MagicMock(last_recv_time=at))

    @staticmethod
    def account_stream_heard(exchange: ExtendedPerpetualDerivative, at: float):
        exchange._user_stream_tracker.data_source._ws_assistant = MagicMock(last_recv_time=at)

    async def check(self, exchange: ExtendedPerpetualDerivative, rest_status: Optional[int]) -> Tuple[Any, int]:
        """The status, and how many REST requests it took (``rest_status`` None: any request is refused)."""
        with aioresponses() as http:
            if rest_status is not None:
                http.get(regex(web_utils.public_rest_url(CONSTANTS.MARKETS_PATH_URL)), status=rest_status,
                         body=ok([market_item()]))
            status = await exchange.check_network()
            return status, sum(len(calls) for calls in http.requests.values())

    async def test_before_the_streams_start_the_network_is_checked_over_rest(self):
        exchange = self.make_exchange()
        self.assertEqual((NetworkStatus.CONNECTED, 1), await self.check(exchange, 200))
        self.assertEqual((NetworkStatus.NOT_CONNECTED, 1), await self.check(exchange, 503))

    async def test_a_recent_public_stream_message_answers_connected_without_a_request(self):
        exchange = self.make_exchange()
        self.public_stream_heard(exchange, self.NOW - 59)
        self.assertEqual((NetworkStatus.CONNECTED, 0), await self.check(exchange, None))

    async def test_a_recent_account_stream_message_answers_connected_without_a_request(self):
        exchange = self.make_exchange()
        self.account_stream_heard(exchange, self.NOW - 30)
        self.assertEqual((NetworkStatus.CONNECTED, 0), await self.check(exchange, None))

    async def test_silent_streams_fall_back_to_rest_and_its_failure_is_not_connected(self):
        exchange = self.make_exchange()
        self.public_stream_heard(exchange, self.NOW - 60)
        self.account_stream_heard(exchange, self.NOW - 61)
        self.assertEqual((NetworkStatus.NOT_CONNECTED, 1), await self.check(exchange, 503))
        self.assertEqual((NetworkStatus.CONNECTED, 1), await self.check(exchange, 200))

    async def test_without_trading_only_the_public_streams_count(self):
        exchange = self.make_exchange(trading_required=False)
        self.account_stream_heard(exchange, self.NOW - 1)
        self.assertEqual((NetworkStatus.NOT_CONNECTED, 1), await self.check(exchange, 503))
        self.public_stream_heard(exchange, self.NOW - 1)
        self.assertEqual((NetworkStatus.CONNECTED, 0), await self.check(exchange, None))
