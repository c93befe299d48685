"""ExtendedPerpetualDerivative against Hummingbot's abstract perpetual suite, plus Extended-specific cases.

The network is mocked only at the edge (aioresponses for REST, a queue for the account stream). Payloads are the
API documentation's examples and the live probe's messages, adapted to the test pair where the suite needs it.
"""
import asyncio
import json
import re
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple
from unittest.mock import AsyncMock, patch

from aioresponses import aioresponses
from aioresponses.core import RequestCall

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_account_messages as messages,
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_markets as markets,
    extended_perpetual_signer as signer,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import (
    ExtendedPerpetualDerivative,
    MarketSpec,
)
from hummingbot.connector.test_support.perpetual_derivative_test import AbstractPerpetualDerivativeTests
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.core.data_type.common import OrderType, PositionAction, PositionMode, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder
from hummingbot.core.data_type.trade_fee import AddedToCostTradeFee, TokenAmount, TradeFeeBase
from hummingbot.core.web_assistant.connections.data_types import RESTMethod

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
    market = markets.parse_market(item)
    exchange._market_specs[market.trading_pair] = MarketSpec(market=market, signing=signer.SigningMarket.from_api(item))


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
    def funding_info_url(self):
        return web_utils.public_rest_url(CONSTANTS.MARKET_STATS_PATH_URL.format(market=self.exchange_trading_pair))

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
        return {"status": "OK", "data": {
            "dailyVolume": "1", "dailyVolumeBase": "1", "dailyPriceChangePercentage": "0", "dailyLow": "1",
            "dailyHigh": "1", "lastPrice": "1", "askPrice": "1", "bidPrice": "1",
            "markPrice": str(self.target_funding_info_mark_price),
            "indexPrice": str(self.target_funding_info_index_price),
            "fundingRate": str(self.target_funding_info_rate),
            "nextFundingRate": self.target_funding_info_next_funding_utc_timestamp * 1000,
            "openInterest": "1", "openInterestBase": "1"}}

    @property
    def empty_funding_payment_mock_response(self):
        return {"status": "OK", "data": [], "pagination": {"cursor": 0, "count": 0}}

    @property
    def funding_payment_mock_response(self):
        return {"status": "OK", "data": [{
            "id": 8341, "accountId": 3137, "market": self.exchange_trading_pair, "positionId": 1821237954501148672,
            "side": "LONG", "size": "1.116", "value": "560.77401888", "markPrice": "502.48568",
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
        url = self.cancel_url(order)
        mock_api.delete(url, status=404, body=error(404, "Order not found"), callback=callback)
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


