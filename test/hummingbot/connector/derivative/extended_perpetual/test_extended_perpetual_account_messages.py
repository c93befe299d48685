"""Parsing of Extended account data: the API documentation's examples and the live probe's messages, as literals."""
import unittest
from decimal import Decimal

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_account_messages as messages

DOC_STREAM_ORDER = {
    "type": "ORDER",
    "data": {"orders": [{
        "id": 1791181340771614723, "accountId": 1791181340771614721, "externalId": "-1771812132822291885",
        "market": "BTC-USD", "type": "LIMIT", "side": "BUY", "status": "NEW", "price": "12400.000000",
        "averagePrice": "13140.000000", "qty": "10.000000", "filledQty": "3.513000", "payedFee": "0.513000",
        "trigger": {"triggerPrice": "1220.00000", "triggerPriceType": "LAST", "direction": "UP",
                    "executionPriceType": "LIMIT"},
        "tpSlType": "ORDER",
        "takeProfit": {"triggerPrice": "1.00000", "triggerPriceType": "LAST", "price": "1.00000",
                       "priceType": "LIMIT"},
        "stopLoss": {"triggerPrice": "1.00000", "triggerPriceType": "LAST", "price": "1.00000",
                     "priceType": "LIMIT"},
        "reduceOnly": True, "postOnly": False, "createdTime": 1715885888571, "updatedTime": 1715885888571,
        "expireTime": 1715885888571}]},
    "ts": 1715885884837, "seq": 1}

DOC_STREAM_TRADE = {
    "type": "TRADE",
    "data": {"trades": [{
        "id": 1784963886257016832, "accountId": 3017, "market": "BTC-USD", "orderId": 9223372036854775808,
        "externalOrderId": "ext-1", "side": "BUY", "price": "58853.4000000000000000", "qty": "0.0900000000000000",
        "value": "5296.8060000000000000", "fee": "0.0000000000000000", "tradeType": "DELEVERAGE",
        "createdTime": 1701563440000, "isTaker": True}]},
    "ts": 1715885884837, "seq": 1}

DOC_STREAM_BALANCE = {
    "type": "BALANCE",
    "data": {"balance": {
        "collateralName": "BTC", "balance": "100.000000", "equity": "20.000000", "availableForTrade": "3.000000",
        "availableForWithdrawal": "4.000000", "unrealisedPnl": "1.000000", "initialMargin": "0.140000",
        "marginRatio": "1.500000", "updatedTime": 1699976104901, "exposure": "12751.859629",
        "leverage": "1275.1860"}},
    "ts": 1715885952304, "seq": 1}

DOC_STREAM_POSITION = {
    "type": "POSITION",
    "data": {"positions": [{
        "id": 1791183357858545669, "accountId": 1791183357858545665, "market": "BTC-USD", "side": "SHORT",
        "leverage": "5.0", "size": "0.3", "value": "12751.8596295830", "openPrice": "42508.00",
        "markPrice": "42506.1987652769", "liquidationPrice": "75816.37", "margin": "637.59",
        "unrealisedPnl": "100.000000", "realisedPnl": "200.000000", "tpTriggerPrice": "1600.0000",
        "tpLimitPrice": "1500.0000", "slTriggerPrice": "1300.0000", "slLimitPrice": "1250.0000", "adl": 1,
        "createdAt": 1715886365748, "updatedAt": 1715886365748}]},
    "ts": 1715886365748, "seq": 1}

PROBE_BALANCE_SNAPSHOT = {
    "type": "BALANCE",
    "data": {"isSnapshot": True, "balance": {
        "collateralName": "USD", "balance": "7.667333", "status": "ACTIVE", "equity": "7.667333",
        "availableForTrade": "7.667333", "availableForWithdrawal": "7.667333", "unrealisedPnl": "0.000000",
        "initialMargin": "0.000000", "marginRatio": "0", "updatedTime": 1762927892866, "exposure": "0",
        "leverage": "0.0000"}},
    "ts": 1763797802075, "seq": 2}

DOC_REST_TRADES = {
    "status": "OK",
    "data": [{"id": 1784963886257016832, "accountId": 3017, "market": "BTC-USD", "orderId": 9223372036854775808,
              "externalId": "ext-1", "side": "BUY", "price": "58853.4000000000000000",
              "qty": "0.0900000000000000", "value": "5296.8060000000000000", "fee": "0.0000000000000000",
              "tradeType": "DELEVERAGE", "createdTime": 1701563440000, "isTaker": True}],
    "pagination": {"cursor": 1784963886257016832, "count": 1}}

DOC_REST_ORDER_HISTORY_ITEM = {
    "id": 1784963886257016832, "externalId": "ExtId-1", "accountId": 1, "market": "BTC-USD", "status": "FILLED",
    "type": "LIMIT", "side": "BUY", "price": "39000", "averagePrice": "39000", "qty": "0.2", "filledQty": "0.1",
    "payedFee": "0.0120000000000000", "reduceOnly": False, "postOnly": False, "createdTime": 1701563440000,
    "updatedTime": 1701563440000, "timeInForce": "FOK", "expireTime": 1706563440}

DOC_REST_FUNDING = {
    "status": "OK",
    "data": [{"id": 8341, "accountId": 3137, "market": "BNB-USD", "positionId": 1821237954501148672,
              "side": "LONG", "size": "1.116", "value": "560.77401888", "markPrice": "502.48568",
              "fundingFee": "0", "fundingRate": "0", "paidTime": 1723147241346}],
    "pagination": {"cursor": 8341, "count": 1}}


class AccountMessagesTests(unittest.TestCase):
    def test_doc_order_update(self):
        message = messages.parse_stream_message(DOC_STREAM_ORDER)
        order = message.items[0]
        self.assertEqual(("ORDER", 1, False), (message.type, message.seq, message.is_snapshot))
        self.assertEqual(("1791181340771614723", "-1771812132822291885", "NEW"),
                         (order.order_id, order.external_id, order.status))
        self.assertEqual((Decimal("10.000000"), Decimal("3.513000"), Decimal("13140.000000")),
                         (order.qty, order.filled_qty, order.average_price))
        self.assertTrue(order.is_open and order.reduce_only and not order.post_only)

    def test_doc_trade_update_carries_fill_details(self):
        trade = messages.parse_stream_message(DOC_STREAM_TRADE).items[0]
        self.assertEqual(("1784963886257016832", "9223372036854775808", "ext-1"),
                         (trade.trade_id, trade.order_id, trade.external_order_id))
        self.assertEqual((Decimal("58853.4"), Decimal("0.09"), Decimal("0")), (trade.price, trade.qty, trade.fee))
        self.assertEqual(("DELEVERAGE", True, 1701563440000), (trade.trade_type, trade.is_taker, trade.created_time_ms))

    def test_doc_balance_and_probe_snapshot(self):
        balance = messages.parse_stream_message(DOC_STREAM_BALANCE).items[0]
        self.assertEqual(("BTC", Decimal("20"), Decimal("3")),
                         (balance.collateral, balance.equity, balance.available_for_trade))
        snapshot = messages.parse_stream_message(PROBE_BALANCE_SNAPSHOT)
        self.assertTrue(snapshot.is_snapshot)
        self.assertEqual(Decimal("7.667333"), snapshot.items[0].equity)

    def test_doc_position_update_and_closed_position(self):
        position = messages.parse_stream_message(DOC_STREAM_POSITION).items[0]
        self.assertEqual(("SHORT", Decimal("-0.3"), Decimal("42508.00"), Decimal("100"), Decimal("5.0")),
                         (position.side, position.signed_size, position.open_price, position.unrealised_pnl,
                          position.leverage))
        self.assertFalse(position.is_closed)
        closed = dict(DOC_STREAM_POSITION["data"]["positions"][0], size="0")
        self.assertTrue(messages.parse_position(closed).is_closed)

    def test_rest_items_use_the_same_parsers(self):
        trade = messages.parse_list(messages.response_data(DOC_REST_TRADES), messages.parse_trade)[0]
        self.assertEqual("ext-1", trade.external_order_id)
        order = messages.parse_order(DOC_REST_ORDER_HISTORY_ITEM)
        self.assertEqual(("FILLED", False), (order.status, order.is_open))
        payment = messages.parse_list(messages.response_data(DOC_REST_FUNDING), messages.parse_funding_payment)[0]
        self.assertEqual(("BNB-USD", 1723147241346), (payment.market, payment.paid_time_ms))
        fees = messages.parse_list([{"market": "BTC-USD", "makerFeeRate": "0.00000", "takerFeeRate": "0.00025"}],
                                   messages.parse_fees)[0]
        self.assertEqual((Decimal("0"), Decimal("0.00025")), (fees.maker, fees.taker))
        leverage = messages.parse_list({"market": "BTC-USD", "leverage": "10"}, messages.parse_leverage)[0]
        self.assertEqual(Decimal("10"), leverage.leverage)

    def test_trade_field_names_of_the_field_table_are_accepted(self):
        item = dict(DOC_REST_TRADES["data"][0])
        item["averagePrice"], item["filledQty"] = item.pop("price"), item.pop("qty")
        trade = messages.parse_trade(item)
        self.assertEqual((Decimal("58853.4"), Decimal("0.09")), (trade.price, trade.qty))

    def test_every_documented_status_is_accepted_and_unknown_ones_refused(self):
        for status in ("NEW", "PARTIALLY_FILLED", "FILLED", "UNTRIGGERED", "TRIGGERED", "CANCELLED", "REJECTED",
                       "EXPIRED"):
            self.assertEqual(status, messages.parse_order(dict(DOC_REST_ORDER_HISTORY_ITEM, status=status)).status)
        with self.assertRaises(messages.MalformedMessageError):
            messages.parse_order(dict(DOC_REST_ORDER_HISTORY_ITEM, status="WEIRD"))

    def test_malformed_and_unknown_messages_raise_a_value_error_naming_the_field(self):
        with self.assertRaisesRegex(messages.MalformedMessageError, "not an object"):
            messages.parse_stream_message("Invalid message")
        with self.assertRaisesRegex(messages.MalformedMessageError, "unknown account message type 'NEWS'"):
            messages.parse_stream_message({"type": "NEWS", "data": {}})
        with self.assertRaisesRegex(messages.MalformedMessageError, "'qty'"):
            messages.parse_order({key: value for key, value in DOC_REST_ORDER_HISTORY_ITEM.items() if key != "qty"})
        with self.assertRaisesRegex(messages.MalformedMessageError, "'price' is not a number"):
            messages.parse_trade(dict(DOC_REST_TRADES["data"][0], price="abc"))

    def test_a_malformed_item_is_left_out_and_named_the_others_kept(self):
        good = DOC_STREAM_ORDER["data"]["orders"][0]
        bad = {key: value for key, value in good.items() if key != "qty"}
        message = messages.parse_stream_message(
            {"type": "ORDER", "seq": 4, "data": {"isSnapshot": True, "orders": [bad, good]}})
        self.assertEqual([good["externalId"]], [order.external_id for order in message.items])
        self.assertEqual(1, len(message.skipped))
        self.assertIn("'qty'", message.skipped[0])
        self.assertFalse(message.is_snapshot)  # a snapshot with a hole is applied as updates
        whole = messages.parse_stream_message(
            {"type": "ORDER", "seq": 5, "data": {"isSnapshot": True, "orders": [good]}})
        self.assertEqual(((), True), (whole.skipped, whole.is_snapshot))

    def test_errors_carry_the_documented_meaning(self):
        error = messages.error_from_response(400, {"status": "ERROR", "error": {"code": 1140, "message": "cost"}})
        self.assertEqual("Extended error 1140 (OrderCostExceedsBalance: not enough available balance): cost "
                         "[HTTP 400]", str(error))
        self.assertFalse(error.is_not_found or error.is_rate_limited)
        self.assertTrue(messages.error_from_response(404, {"status": "ERROR", "error": {"code": "NOT_FOUND",
                                                                                        "message": "x"}}).is_not_found)
        self.assertTrue(messages.error_from_response(429, "").is_rate_limited)
        self.assertIsNone(messages.error_from_response(200, {"status": "OK", "data": []}))
        self.assertIsNotNone(messages.error_from_response(200, {"status": "ERROR", "error": {"code": 1101}}))

    def test_funding_message_is_a_signal_without_items(self):
        message = messages.parse_stream_message({"type": "FUNDING", "data": {"anything": 1}, "ts": 1, "seq": 9})
        self.assertEqual(("FUNDING", 9, ()), (message.type, message.seq, message.items))

    def test_reconcile_marker_round_trips(self):
        self.assertEqual(messages.RECONCILE, messages.parse_stream_message(messages.reconcile_message("gap")).type)

    def test_parsed_items_are_immutable(self):
        order = messages.parse_order(DOC_REST_ORDER_HISTORY_ITEM)
        with self.assertRaises(Exception):
            order.status = "CANCELLED"
