"""Parsing of Extended's public market data; fixtures are the API documentation's own examples."""
import copy
import unittest
from decimal import Decimal

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_markets as markets
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_account_messages import ExtendedAPIError

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
        with self.assertRaisesRegex(ExtendedAPIError, "Market not found") as context:
            markets.parse_order_book_snapshot(DOC_NOT_FOUND_RESPONSE)
        self.assertTrue(context.exception.is_not_found)  # one error type: the connector's not-found checks apply

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
        book = markets.AdditiveOrderBook()
        self.assertEqual(([(25670.0, 0.1)], [(25770.0, 0.1)], 1701563440.0),
                         book.apply_message(DOC_ORDER_BOOK_SNAPSHOT_MESSAGE))
        delta = {"ts": 1, "type": "DELTA", "seq": 2, "data": {"m": "BTC-USD", "b": [{"p": "25670", "q": "-0.1"}]}}
        self.assertFalse(markets.parse_order_book_stream_message(delta).is_snapshot)
        self.assertEqual([], markets.parse_order_book_stream_message(delta).asks)
        self.assertEqual(([(25670.0, 0.0)], [], 0.001), book.apply_message(delta))
        self.assertEqual(([], [(25770.0, 0.1)]), book.rows())

    def test_delta_sizes_are_added_exactly_and_a_level_reaching_zero_is_removed(self):
        book = markets.AdditiveOrderBook()
        book.apply_message(book_message("SNAPSHOT", bids=[("25670", "0.1"), ("25660", "1")]))
        bids, asks, _ = book.apply_message(book_message(bids=[("25670", "0.2"), ("25670", "-0.3"), ("25650.5", "2"),
                                                              ("25660", "-0.25")]))
        self.assertEqual([(25670.0, 0.3), (25670.0, 0.0), (25650.5, 2.0), (25660.0, 0.75)], bids)
        self.assertEqual(([(25660.0, 0.75), (25650.5, 2.0)], []), book.rows())

    def test_delta_taking_a_level_below_zero_is_a_desync(self):
        book = markets.AdditiveOrderBook()
        book.apply_message(book_message("SNAPSHOT", bids=[("25670", "0.1")]))
        with self.assertRaises(markets.BookDesyncError):
            book.apply_message(book_message(bids=[("25670", "-0.2")]))

    def test_a_delta_while_awaiting_a_snapshot_is_ignored_and_a_snapshot_clears_what_it_lacks(self):
        book = markets.AdditiveOrderBook()
        book.apply_message(book_message("SNAPSHOT", bids=[("100", "1"), ("99", "2")], asks=[("101", "1")]))
        book.awaiting_snapshot = True
        self.assertIsNone(book.apply_message(book_message(bids=[("100", "1")])))
        bids, asks, _ = book.apply_message(book_message("SNAPSHOT", bids=[("99", "3")]))
        self.assertEqual(([(100.0, 0.0), (99.0, 3.0)], [(101.0, 0.0)]), (bids, asks))
        self.assertFalse(book.awaiting_snapshot)

    def test_stream_messages_of_unknown_type_or_missing_fields_are_rejected(self):
        for payload in ({**DOC_ORDER_BOOK_SNAPSHOT_MESSAGE, "type": "FULL"}, {"type": "DELTA", "seq": 2, "ts": 1}):
            with self.assertRaises(markets.MarketDataFormatError):
                markets.parse_order_book_stream_message(payload)
            with self.assertRaises(markets.MarketDataFormatError):
                markets.AdditiveOrderBook().apply_message(payload)
        for levels in ([{"p": "x", "q": "1"}], [{"p": "1"}], [{"q": "1"}], [{"p": "nan", "q": "1"}],
                       [{"p": "0", "q": "1"}], [{"p": "1", "q": "abc"}], [{"p": "1", "q": "nan"}],
                       [{"p": "1", "q": "inf"}], [{"p": "1", "q": "-Infinity"}], [{"p": "1", "q": 1}],
                       [{"p": "1", "q": 0.5}], [{"p": "1", "q": None}], [{"p": "1", "q": "1.2.3"}],
                       [{"p": "1", "q": ".\t5"}], [{"p": "1", "q": "1e40"}], ["1"]):
            for kind in ("SNAPSHOT", "DELTA"):
                with self.subTest(levels=levels, kind=kind), self.assertRaises(markets.MarketDataFormatError):
                    markets.AdditiveOrderBook().apply_message(
                        {"ts": 1, "type": kind, "seq": 1, "data": {"m": "BTC-USD", "b": levels}})


def book_message(kind="DELTA", bids=(), asks=()):
    return {"ts": 1, "type": kind, "seq": 1, "data": {"m": "BTC-USD", "b": [{"p": p, "q": q} for p, q in bids],
                                                      "a": [{"p": p, "q": q} for p, q in asks]}}


class ExactOrderBookTests(unittest.TestCase):
    """The book's sums are exact decimal sums and the floats handed out are ``float(Decimal)`` of them."""

    def reference_rows(self, reference, levels):
        rows = []
        for price, change in levels:
            size = reference.get(float(price), Decimal(0)) + Decimal(change)
            if size > 0:
                reference[float(price)] = size
            else:
                reference.pop(float(price), None)
            rows.append((float(price), float(size) if size > 0 else 0.0))
        return rows

    def assert_same_book(self, reference, book):
        self.assertEqual([(price, float(size)) for price, size in reference.items()], book.rows()[0])
        self.assertEqual(reference, {price: Decimal(int(size)).scaleb(-book.decimals)
                                     for price, size in book.bids.items()})

    def test_random_deltas_match_decimal_arithmetic_bit_for_bit(self):
        import random
        rng = random.Random(5)
        for decimals in (0, 1, 3, 5, 8):
            book, reference = markets.AdditiveOrderBook(), {}
            book.apply_message(book_message("SNAPSHOT"))
            for _ in range(300):
                levels, pending = [], dict(reference)
                for _ in range(rng.randint(0, 4)):
                    price = str(Decimal(rng.randint(1, 40)) / 2)
                    held = pending.get(float(price), Decimal(0))
                    new = Decimal(rng.randint(0, 10 ** 6)).scaleb(-rng.randint(0, decimals)) if rng.random() > 0.3 \
                        else Decimal(0)
                    pending[float(price)], change = new, new - held
                    text = rng.choice([str(change), f"{change:f}", f"{change:.{decimals + 2}f}", f"{change:E}"])
                    levels.append((price, text))
                bids, _, _ = book.apply_message(book_message(bids=levels))
                self.assertEqual(self.reference_rows(reference, levels), bids)
            self.assert_same_book(reference, book)

    def test_finer_sizes_widen_the_book_exactly(self):
        book = markets.AdditiveOrderBook()
        book.apply_message(book_message("SNAPSHOT", bids=[("10", "1.5")]))
        self.assertEqual(1, book.decimals)
        bids, _, _ = book.apply_message(book_message(bids=[("10", "0.00000001"), ("11", "2"), ("12", "1e-3"),
                                                           ("13", "0.250000000000000000000"), ("14", " 7.5 ")]))
        self.assertEqual([(10.0, 1.50000001), (11.0, 2.0), (12.0, 0.001), (13.0, 0.25), (14.0, 7.5)], bids)
        self.assertEqual(8, book.decimals)
        bids, _, _ = book.apply_message(book_message(bids=[("10", "-0.00000001"), ("10", "-1.5")]))
        self.assertEqual([(10.0, 1.5), (10.0, 0.0)], bids)

    def test_a_long_text_is_read_exactly_not_through_a_float(self):
        book = markets.AdditiveOrderBook()
        book.apply_message(book_message("SNAPSHOT", bids=[("10", "0.123")]))
        # 0.1230000000000000001 and 0.123 are the same double, not the same size: 19 decimals is beyond the limit
        with self.assertRaises(markets.MarketDataFormatError):
            book.apply_message(book_message(bids=[("10", "0.1230000000000000001")]))
        book = markets.AdditiveOrderBook()
        book.apply_message(book_message("SNAPSHOT", bids=[("10", "0.123")]))
        bids, _, _ = book.apply_message(book_message(bids=[("10", "0.000000000000001"), ("10", "-0.000000000000001")]))
        self.assertEqual([(10.0, float(Decimal("0.123000000000001"))), (10.0, 0.123)], bids)
        self.assertEqual(15, book.decimals)

    def test_more_decimals_than_allowed_or_an_underflowing_size_is_malformed(self):
        for text in ("0." + "0" * markets.MAX_SIZE_DECIMALS + "1", "1e-400", "-1e-19"):
            book = markets.AdditiveOrderBook()
            book.apply_message(book_message("SNAPSHOT", bids=[("10", "1")]))
            with self.subTest(text=text), self.assertRaises(markets.MarketDataFormatError):
                book.apply_message(book_message(bids=[("10", text)]))
        book = markets.AdditiveOrderBook()
        book.apply_message(book_message("SNAPSHOT", bids=[("10", "1")]))
        self.assertEqual(([(10.0, 1.0)], [], 0.001), book.apply_message(book_message(bids=[("10", "0.000")])))

    def test_counts_outgrowing_exact_floats_resynchronise_into_python_ints(self):
        book = markets.AdditiveOrderBook()
        book.apply_message(book_message("SNAPSHOT", bids=[("10", "0.00000001")]))
        self.assertTrue(book.exact_floats)
        with self.assertRaises(markets.BookDesyncError):
            book.apply_message(book_message(bids=[("11", "90000000")]))  # 9e15 quantums of 1e-8
        self.assertFalse(book.exact_floats)
        huge = "123456789012345678.12345678"
        bids, _, _ = book.apply_message(book_message("SNAPSHOT", bids=[("10", huge), ("11", "0.00000001")]))
        self.assertFalse(book.exact_floats)
        self.assertEqual([(10.0, float(Decimal(huge))), (11.0, 1e-08)], bids)
        bids, _, _ = book.apply_message(book_message(bids=[("10", "0.00000001"), ("10", "-" + huge)]))
        self.assertEqual([(10.0, float(Decimal(huge) + Decimal("0.00000001"))), (10.0, 0.00000001)], bids)
        self.assertEqual({10.0: 1, 11.0: 1}, book.bids)
        book.apply_message(book_message("SNAPSHOT", bids=[("10", "1.5")]))  # a fitting snapshot: floats again
        self.assertTrue(book.exact_floats)
        self.assertEqual(({10.0: 15.0}, 1), (book.bids, book.decimals))

    def test_a_malformed_snapshot_leaves_the_book_for_the_next_one_to_clear(self):
        book = markets.AdditiveOrderBook()
        book.apply_message(book_message("SNAPSHOT", bids=[("100", "1.5")], asks=[("101", "2")]))
        with self.assertRaises(markets.MarketDataFormatError):
            book.apply_message(book_message("SNAPSHOT", bids=[("100", "0.00001"), ("99", "x")]))
        self.assertEqual(([(100.0, 1.5)], [(101.0, 2.0)]), book.rows())
        bids, asks, _ = book.apply_message(book_message("SNAPSHOT", bids=[("99", "1")]))
        self.assertEqual(([(100.0, 0.0), (99.0, 1.0)], [(101.0, 0.0)]), (bids, asks))

    def test_a_rest_seed_keeps_its_levels_for_the_next_snapshot_to_clear(self):
        book = markets.AdditiveOrderBook()
        book.seed([(100.0, 0.04852), (99.0, 1e-05)], [(101.0, 0.0)])
        self.assertEqual(([(100.0, 0.04852), (99.0, 1e-05)], [(101.0, 0.0)]), book.rows())
        bids, asks, _ = book.apply_message(book_message("SNAPSHOT", bids=[("100", "1")]))
        self.assertEqual(([(99.0, 0.0), (100.0, 1.0)], [(101.0, 0.0)]), (bids, asks))


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
