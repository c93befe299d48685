"""Parsing of Extended's public market data; fixtures are the API documentation's own examples."""
import copy
import unittest
from decimal import Decimal

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_markets as markets

# ---- the documentation's examples, verbatim ----
DOC_MARKETS_RESPONSE = {
    "status": "ok",
    "data": [
        {
            "name": "BTC-USD",
            "assetName": "BTC",
            "assetPrecision": 6,
            "collateralAssetName": "USD",
            "collateralAssetPrecision": 6,
            "active": True,
            "status": "ACTIVE",
            "marketStats": {
                "dailyVolume": "39659164065",
                "dailyVolumeBase": "39659164065",
                "dailyPriceChangePercentage": "5.57",
                "dailyLow": "39512",
                "dailyHigh": "42122",
                "lastPrice": "42000",
                "askPrice": "42005",
                "bidPrice": "39998",
                "markPrice": "39950",
                "indexPrice": "39940",
                "fundingRate": "0.001",
                "nextFundingRate": 1701563440,
                "openInterest": "1245.2",
                "openInterestBase": "1245.2"
            },
            "tradingConfig": {
                "minOrderSize": "0.001",
                "minOrderSizeChange": "0.001",
                "minPriceChange": "0.001",
                "maxMarketOrderValue": "1000000",
                "maxLimitOrderValue": "5000000",
                "maxPositionValue": "10000000",
                "maxLeverage": "50",
                "maxNumOrders": "200",
                "limitPriceCap": "0.05",
                "limitPriceFloor": "0.05"
            },
            "l2Config": {
                "type": "STARKX",
                "collateralId": "0x35596841893e0d17079c27b2d72db1694f26a1932a7429144b439ba0807d29c",
                "collateralResolution": 1000000,
                "syntheticId": "0x4254432d3130000000000000000000",
                "syntheticResolution": 10000000000
            }
        }
    ]
}

DOC_STATS_RESPONSE = {
    "status": "OK",
    "data": {
        "dailyVolume": "10283410.122959",
        "dailyVolumeBase": "3343.1217",
        "dailyPriceChange": "-26.00",
        "dailyPriceChangePercentage": "-0.0084",
        "dailyLow": "3057.98",
        "dailyHigh": "3133.53",
        "lastPrice": "3085.70",
        "askPrice": "3089.05",
        "bidPrice": "3087.50",
        "markPrice": "3088.439710293828",
        "indexPrice": "3089.556987078441",
        "fundingRate": "-0.000059",
        "nextFundingRate": 1716192000000,
        "openInterest": "35827242.257619",
        "openInterestBase": "11600.4344",
        "deleverageLevels": {
            "shortPositions": [{"level": 1, "rankingLowerBound": "-1354535.1454"}],
            "longPositions": [{"level": 1, "rankingLowerBound": "-2978.4427"}],
        }
    }
}

DOC_ORDER_BOOK_RESPONSE = {
    "status": "OK",
    "data": {
        "market": "BTC-USD",
        "bid": [{"qty": "0.04852", "price": "61827.7"}, {"qty": "0.50274", "price": "61820.5"}],
        "ask": [{"qty": "0.04852", "price": "61840.3"}, {"qty": "0.4998", "price": "61864.1"}]
    }
}

DOC_NOT_FOUND_RESPONSE = {"status": "ERROR", "error": {"code": "NOT_FOUND", "message": "Market not found"}}

DOC_ORDER_BOOK_SNAPSHOT_MESSAGE = {
    "ts": 1701563440000,
    "type": "SNAPSHOT",
    "data": {"m": "BTC-USD", "b": [{"p": "25670", "q": "0.1"}], "a": [{"p": "25770", "q": "0.1"}]},
    "seq": 1
}

DOC_PUBLIC_TRADES_MESSAGE = {
    "ts": 1701563440000,
    "data": [{"m": "BTC-USD", "S": "BUY", "tT": "TRADE", "T": 1701563440000, "p": "25670", "q": "0.1", "i": 25124}],
    "seq": 2
}

DOC_FUNDING_MESSAGE = {"ts": 1701563440000, "data": {"m": "BTC-USD", "T": 1701563440000, "f": "0.001"}, "seq": 2}

DOC_MARK_PRICE_MESSAGE = {
    "type": "MP", "data": {"m": "BTC-USD", "p": "25670", "ts": 1701563440000},
    "ts": 1701563440000, "seq": 1, "sourceEventId": None,
}

DOC_INDEX_PRICE_MESSAGE = {
    "type": "IP", "data": {"m": "BTC-USD", "p": "25680", "ts": 1701563440000},
    "ts": 1701563440000, "seq": 1, "sourceEventId": None,
}


def market_item(name: str, asset: str, status: str = "ACTIVE", active: bool = True, last_price: str = "42000"):
    """The documented BTC-USD market, renamed and with another status."""
    item = copy.deepcopy(DOC_MARKETS_RESPONSE["data"][0])
    item.update(name=name, assetName=asset, status=status, active=active)
    item["marketStats"]["lastPrice"] = last_price
    return item


def markets_response(*items) -> dict:
    return {"status": "OK", "data": list(items)}


class MarketParsingTests(unittest.TestCase):
    def test_documented_market_is_parsed_with_its_trading_config_and_l2_config(self):
        [market] = markets.parse_markets(DOC_MARKETS_RESPONSE)
        self.assertEqual(("BTC-USD", "BTC", "USD", "ACTIVE"),
                         (market.name, market.asset_name, market.collateral_asset_name, market.status))
        self.assertEqual(Decimal("0.001"), market.min_order_size)
        self.assertEqual(Decimal("0.001"), market.min_order_size_change)
        self.assertEqual(Decimal("0.001"), market.min_price_change)
        self.assertEqual(Decimal("1000000"), market.max_market_order_value)
        self.assertEqual(Decimal("5000000"), market.max_limit_order_value)
        self.assertEqual(Decimal("10000000"), market.max_position_value)
        self.assertEqual(Decimal("50"), market.max_leverage)
        self.assertEqual(200, market.max_num_orders)
        self.assertEqual((Decimal("0.05"), Decimal("0.05")), (market.limit_price_cap, market.limit_price_floor))
        self.assertEqual(10000000000, market.l2_config["syntheticResolution"])
        self.assertEqual("0x4254432d3130000000000000000000", market.l2_config["syntheticId"])
        self.assertEqual(1000000, market.l2_config["collateralResolution"])
        self.assertTrue(market.is_tradable)
        self.assertFalse(market.reduce_only)

    def test_market_stats_in_markets_use_seconds_for_next_funding(self):
        [market] = markets.parse_markets(DOC_MARKETS_RESPONSE)
        self.assertEqual(Decimal("42000"), market.stats.last_price)
        self.assertEqual(Decimal("0.001"), market.stats.funding_rate)
        self.assertEqual(1701563440, market.stats.next_funding_timestamp)

    def test_stats_endpoint_milliseconds_next_funding_is_normalised_to_seconds(self):
        stats = markets.parse_market_stats(markets.response_data(DOC_STATS_RESPONSE))
        self.assertEqual(1716192000, stats.next_funding_timestamp)
        self.assertEqual(Decimal("-0.000059"), stats.funding_rate)
        self.assertEqual(Decimal("3088.439710293828"), stats.mark_price)
        self.assertEqual(Decimal("3089.556987078441"), stats.index_price)
        self.assertEqual(Decimal("3085.70"), stats.last_price)

    def test_error_envelope_raises_with_the_exchange_message(self):
        with self.assertRaisesRegex(markets.ExtendedApiError, "Market not found"):
            markets.parse_order_book_snapshot(DOC_NOT_FOUND_RESPONSE)

    def test_malformed_market_is_left_out_and_the_others_kept(self):
        broken = market_item("ETH-USD", "ETH")
        del broken["tradingConfig"]["minPriceChange"]
        with self.assertLogs(markets.__name__, "WARNING") as logs:
            parsed = markets.parse_markets(markets_response(broken, market_item("SOL-USD", "SOL")))
        self.assertEqual(["SOL-USD"], [market.name for market in parsed])
        self.assertIn("ETH-USD", logs.output[0])


class TradabilityTests(unittest.TestCase):
    def setUp(self):
        self.markets = markets.parse_markets(markets_response(
            market_item("BTC-USD", "BTC"),
            market_item("ETH-USD", "ETH", status="REDUCE_ONLY"),
            market_item("OLD-USD", "OLD", status="DELISTED", active=False),
            market_item("NEW-USD", "NEW", status="PRELISTED", active=False),
            market_item("OFF-USD", "OFF", status="DISABLED"),
            market_item("ODD-USD", "ODD", status="ACTIVE", active=False),
        ))

    def test_symbol_map_holds_only_tradable_markets_and_reports_the_others(self):
        with self.assertLogs(markets.__name__, "INFO") as logs:
            symbol_map = markets.symbol_map_from_markets(self.markets)
        self.assertEqual({"BTC-USD": "BTC-USD", "ETH-USD": "ETH-USD"}, dict(symbol_map))
        self.assertEqual("BTC-USD", symbol_map.inverse["BTC-USD"])
        reported = "\n".join(logs.output)
        for name, status in (("OLD-USD", "DELISTED"), ("NEW-USD", "PRELISTED"), ("OFF-USD", "DISABLED")):
            self.assertIn(f"{name} is {status}", reported)
        self.assertIn("ODD-USD", reported)

    def test_reduce_only_market_keeps_its_rule_and_is_flagged(self):
        rules = {rule.trading_pair: rule for rule in markets.trading_rules_from_markets(self.markets)}
        self.assertEqual({"BTC-USD", "ETH-USD"}, set(rules))
        eth = next(market for market in self.markets if market.name == "ETH-USD")
        self.assertTrue(eth.reduce_only)
        self.assertTrue(eth.is_tradable)

    def test_trading_rule_uses_size_step_tick_and_collateral_token(self):
        [market] = markets.parse_markets(DOC_MARKETS_RESPONSE)
        rule = markets.trading_rule_from_market(market, "BTC-USD")
        self.assertEqual(Decimal("0.001"), rule.min_order_size)
        self.assertEqual(Decimal("0.001"), rule.min_base_amount_increment)
        self.assertEqual(Decimal("0.001"), rule.min_price_increment)
        self.assertEqual(Decimal("0"), rule.min_notional_size)
        self.assertEqual("USD", rule.buy_order_collateral_token)
        self.assertEqual("USD", rule.sell_order_collateral_token)

    def test_collateral_token_follows_the_market_not_the_pair_text(self):
        item = market_item("BTC-USDC", "BTC")
        item["collateralAssetName"] = "USDC"
        [market] = markets.parse_markets(markets_response(item))
        self.assertEqual("BTC-USDC", market.trading_pair)
        self.assertEqual("USDC", markets.trading_rule_from_market(market, "BTC-USDC").buy_order_collateral_token)

    def test_last_traded_prices_by_market_name(self):
        prices = markets.last_traded_prices(self.markets)
        self.assertEqual(Decimal("42000"), prices["BTC-USD"])


class OrderBookParsingTests(unittest.TestCase):
    def test_rest_order_book_uses_bid_and_ask_keys(self):
        snapshot = markets.parse_order_book_snapshot(DOC_ORDER_BOOK_RESPONSE)
        self.assertEqual("BTC-USD", snapshot.market)
        self.assertEqual((Decimal("61827.7"), Decimal("0.04852")), snapshot.bids[0])
        self.assertEqual((Decimal("61864.1"), Decimal("0.4998")), snapshot.asks[1])

    def test_stream_snapshot_and_delta(self):
        update = markets.parse_order_book_stream_message(DOC_ORDER_BOOK_SNAPSHOT_MESSAGE)
        self.assertTrue(update.is_snapshot)
        self.assertEqual((1, 1701563440000, "BTC-USD"), (update.seq, update.timestamp_ms, update.market))
        self.assertEqual({25670.0: Decimal("0.1")}, markets.snapshot_levels(update.bids))
        delta = markets.parse_order_book_stream_message(
            {"ts": 1, "type": "DELTA", "seq": 2, "data": {"m": "BTC-USD", "b": [{"p": "25670", "q": "-0.1"}]}})
        self.assertFalse(delta.is_snapshot)
        self.assertEqual([], delta.asks)

    def test_delta_sizes_are_added_exactly_and_a_level_reaching_zero_is_removed(self):
        side = {25670.0: Decimal("0.1"), 25660.0: Decimal("1")}
        rows = markets.apply_level_changes(side, [{"p": "25670", "q": "0.2"}, {"p": "25670", "q": "-0.3"},
                                                  {"p": "25650.5", "q": "2"}, {"p": "25660", "q": "-0.25"}])
        self.assertEqual([(25670.0, 0.3), (25670.0, 0.0), (25650.5, 2.0), (25660.0, 0.75)], rows)
        self.assertEqual({25660.0: Decimal("0.75"), 25650.5: Decimal("2")}, side)

    def test_delta_taking_a_level_below_zero_is_a_desync(self):
        with self.assertRaises(markets.BookDesyncError):
            markets.apply_level_changes({25670.0: Decimal("0.1")}, [{"p": "25670", "q": "-0.2"}])

    def test_stream_messages_of_unknown_type_or_missing_fields_are_rejected(self):
        for payload in ({**DOC_ORDER_BOOK_SNAPSHOT_MESSAGE, "type": "FULL"}, {"type": "DELTA", "seq": 2, "ts": 1}):
            with self.assertRaises(markets.MarketDataFormatError):
                markets.parse_order_book_stream_message(payload)
        with self.assertRaises(markets.MarketDataFormatError):
            markets.apply_level_changes({}, [{"p": "x", "q": "1"}])
        with self.assertRaises(markets.MarketDataFormatError):
            markets.snapshot_levels([{"p": "1"}])


class StreamParsingTests(unittest.TestCase):
    def test_public_trade_keeps_taker_side_id_and_trade_type(self):
        [trade] = markets.parse_public_trades_message(DOC_PUBLIC_TRADES_MESSAGE)
        self.assertEqual(("BUY", 25124, "TRADE"), (trade.taker_side, trade.trade_id, trade.trade_type))
        self.assertEqual((Decimal("25670"), Decimal("0.1"), 1701563440000),
                         (trade.price, trade.quantity, trade.timestamp_ms))

    def test_funding_message_as_object_or_list(self):
        [applied] = markets.parse_funding_message(DOC_FUNDING_MESSAGE)
        self.assertEqual((Decimal("0.001"), 1701563440000), (applied.rate, applied.applied_at_ms))
        listed = {**DOC_FUNDING_MESSAGE, "data": [DOC_FUNDING_MESSAGE["data"]] * 2}
        self.assertEqual(2, len(markets.parse_funding_message(listed)))

    def test_mark_and_index_prices(self):
        mark = markets.parse_price_message(DOC_MARK_PRICE_MESSAGE)
        index = markets.parse_price_message(DOC_INDEX_PRICE_MESSAGE)
        self.assertEqual(("MP", Decimal("25670")), (mark.price_type, mark.price))
        self.assertEqual(("IP", Decimal("25680")), (index.price_type, index.price))
        with self.assertRaises(markets.MarketDataFormatError):
            markets.parse_price_message({**DOC_MARK_PRICE_MESSAGE, "type": "LP"})

    def test_timestamps_in_seconds_or_milliseconds(self):
        self.assertEqual(1701563440, markets.timestamp_seconds(1701563440))
        self.assertEqual(1701563440, markets.timestamp_seconds(1701563440123))
