"""Private REST (X-Api-Key): account data, leverage, fees, order entry and cancels."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, List

from aiohttp import web

from . import errors
from .accounts import Account, balance_json, market_initial_margin
from .errors import ApiError
from .responses import emulator_of, int_query, json_body, markets_filter, ok, paginate

if TYPE_CHECKING:
    from .exchange import Exchange

HISTORY_STATUSES = ("FILLED", "CANCELLED", "REJECTED", "EXPIRED")


def exchange_of(request: web.Request) -> "Exchange":
    return emulator_of(request).exchange


def account_of(request: web.Request) -> Account:
    account = exchange_of(request).account_by_key(request.headers.get("X-Api-Key"))
    if account is None:
        raise ApiError(errors.UNAUTHORIZED, "Unauthorized", 401)
    return account


def _side_filter(request: web.Request) -> str:
    return request.query.get("side", "").upper()


async def get_balance(request: web.Request) -> web.Response:
    account = account_of(request)
    if account.balance == 0:
        raise ApiError(errors.NOT_FOUND, "Balance not found", 404)
    exchange = exchange_of(request)
    return ok(balance_json(account, exchange.markets, exchange.clock.now_ms()))


async def get_positions(request: web.Request) -> web.Response:
    account, exchange = account_of(request), exchange_of(request)
    wanted, side = markets_filter(request), _side_filter(request)
    data = [p.to_json(account.account_id, exchange.markets[m], account.leverage_for(m))
            for m, p in account.positions.items()
            if (not wanted or m in wanted) and (not side or p.side == side)]
    return ok(data)


async def get_positions_history(request: web.Request) -> web.Response:
    account = account_of(request)
    wanted, side = markets_filter(request), _side_filter(request)
    every = list(account.closed_positions) + list(account.positions.values())
    data = [p.history_json(account.account_id, account.leverage_for(p.market)) for p in every
            if (not wanted or p.market in wanted) and (not side or p.side == side)]
    return paginate(request, data)


def _order_filter(request: web.Request, orders) -> List[dict]:
    wanted, side = markets_filter(request), _side_filter(request)
    order_type = request.query.get("type", "").upper()
    return [o.to_json() for o in orders
            if (not wanted or o.market in wanted) and (not side or o.side == side)
            and (not order_type or o.order_type == order_type)]


async def get_open_orders(request: web.Request) -> web.Response:
    account = account_of(request)
    return ok(sorted(_order_filter(request, account.open_orders()), key=lambda o: o["id"], reverse=True))


async def get_orders_history(request: web.Request) -> web.Response:
    account = account_of(request)
    ids = {int(i) for i in request.query.getall("id", []) if i.isdigit()}
    external_ids = set(request.query.getall("externalId", []))
    orders = [o for o in account.orders.values() if o.status in HISTORY_STATUSES
              and (not ids or o.id in ids) and (not external_ids or o.external_id in external_ids)]
    return paginate(request, _order_filter(request, orders))


async def get_order_by_id(request: web.Request) -> web.Response:
    account = account_of(request)
    try:
        order = account.orders.get(int(request.match_info["id"]))
    except ValueError:
        order = None
    if order is None:
        raise ApiError(errors.NOT_FOUND, "Order not found", 404)
    return ok(order.to_json())


async def get_orders_by_external_id(request: web.Request) -> web.Response:
    account = account_of(request)
    orders = account.find_by_external_id(request.match_info["external_id"])
    if not orders:
        raise ApiError(errors.NOT_FOUND, "Order not found", 404)
    return ok([o.to_json() for o in orders])


async def get_trades(request: web.Request) -> web.Response:
    account = account_of(request)
    wanted, side = markets_filter(request), _side_filter(request)
    trade_type = request.query.get("type", "").upper()
    data = [t for t in account.trades if (not wanted or t["market"] in wanted)
            and (not side or t["side"] == side) and (not trade_type or t["tradeType"] == trade_type)]
    if not emulator_of(request).rest_trades_external_order_id:  # the doc's field table: stream only
        data = [{key: value for key, value in t.items() if key != "externalOrderId"} for t in data]
    return paginate(request, data)


async def get_funding_payments(request: web.Request) -> web.Response:
    account = account_of(request)
    from_time = int_query(request, "fromTime", required=True)
    wanted, side = markets_filter(request), _side_filter(request)
    data = [p for p in account.funding_payments if p["paidTime"] >= from_time
            and (not wanted or p["market"] in wanted) and (not side or p["side"] == side)]
    return paginate(request, data)


async def get_fees(request: web.Request) -> web.Response:
    account, exchange = account_of(request), exchange_of(request)
    wanted = markets_filter(request)
    return ok([{"market": m, "makerFeeRate": str(account.fees.maker), "takerFeeRate": str(account.fees.taker)}
               for m in exchange.markets if not wanted or m in wanted])


async def get_leverage(request: web.Request) -> web.Response:
    account, exchange = account_of(request), exchange_of(request)
    wanted = markets_filter(request)
    return ok([{"market": m, "leverage": str(account.leverage_for(m))}
               for m in exchange.markets if not wanted or m in wanted])


def _parse_leverage(raw) -> Decimal:
    try:
        leverage = Decimal(str(raw))
    except InvalidOperation:
        raise ApiError(errors.BAD_REQUEST, "Invalid leverage", 400)
    if not leverage.is_finite() or leverage != leverage.to_integral_value():
        raise ApiError(errors.LEVERAGE_INVALID_PRECISION, "Leverage has invalid precision", 400)
    return leverage


async def patch_leverage(request: web.Request) -> web.Response:
    account, exchange = account_of(request), exchange_of(request)
    body = await json_body(request)
    market = exchange.markets.get(str(body.get("market"))) if isinstance(body, dict) else None
    if market is None:
        raise ApiError(errors.MARKET_NOT_FOUND, "Market not found", 400)
    leverage = _parse_leverage(body.get("leverage"))
    if leverage < 1:
        raise ApiError(errors.LEVERAGE_BELOW_MIN, "Leverage below min leverage", 400)
    if leverage > market.trading.max_leverage:
        raise ApiError(errors.LEVERAGE_ABOVE_MAX, "Leverage exceeds max leverage", 400)
    _apply_leverage(exchange, account, market, leverage)
    return ok({"market": market.name, "leverage": str(leverage)})


def _apply_leverage(exchange: "Exchange", account: Account, market, leverage: Decimal) -> None:
    previous = account.leverage_for(market.name)
    before = market_initial_margin(account, market)
    account.leverage[market.name] = leverage
    added = market_initial_margin(account, market) - before
    available = Decimal(balance_json(account, exchange.markets, 0)["availableForTrade"])
    if added > 0 and available < 0:
        account.leverage[market.name] = previous
        raise ApiError(errors.LEVERAGE_INSUFFICIENT_MARGIN, "Insufficient margin for new leverage", 400)
    exchange.emit_balance(account)


async def post_order(request: web.Request) -> web.Response:
    account, exchange = account_of(request), exchange_of(request)
    order = exchange.submit_order(account, await json_body(request))
    return ok({"id": order.id, "externalId": order.external_id})


async def delete_order_by_id(request: web.Request) -> web.Response:
    account, exchange = account_of(request), exchange_of(request)
    raw = request.match_info["id"]
    order = account.orders.get(int(raw)) if raw.isdigit() else None
    if order is None:
        raise ApiError(errors.NOT_FOUND, "Order not found", 404)
    exchange.cancel_order(account, order)
    return ok({})


async def delete_order_by_external_id(request: web.Request) -> web.Response:
    account, exchange = account_of(request), exchange_of(request)
    external_id = request.query.get("externalId")
    if not external_id:
        raise ApiError(errors.BAD_REQUEST, "Missing required parameter 'externalId'", 400)
    open_orders = [o for o in account.find_by_external_id(external_id) if o.is_open]
    if not open_orders:
        raise ApiError(errors.NOT_FOUND, "Order not found", 404)
    for order in open_orders:
        exchange.cancel_order(account, order)
    return ok({})


def _list_of(body: dict, key: str, kind):
    raw = body.get(key) or []
    if not isinstance(raw, list):
        raise ApiError(errors.BAD_REQUEST, f"'{key}' must be a list", 400)
    try:
        return [kind(item) for item in raw]
    except (TypeError, ValueError):
        raise ApiError(errors.BAD_REQUEST, f"'{key}' has an invalid item", 400)


async def post_mass_cancel(request: web.Request) -> web.Response:
    account, exchange = account_of(request), exchange_of(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(errors.BAD_REQUEST, "Request body must be a JSON object", 400)
    order_ids = _list_of(body, "orderIds", int)
    external_ids = _list_of(body, "externalOrderIds", str)
    markets = _list_of(body, "markets", str)
    cancel_all = body.get("cancelAll") is True
    if not (order_ids or external_ids or markets or cancel_all):
        raise ApiError(errors.BAD_REQUEST, "At least one parameter must be specified", 400)
    exchange.mass_cancel(account, order_ids, external_ids, markets, cancel_all)
    return ok({})


async def post_dead_man_switch(request: web.Request) -> web.Response:
    account, exchange = account_of(request), exchange_of(request)
    countdown = int_query(request, "countdownTime", required=True)
    if countdown < 0:
        raise ApiError(errors.BAD_REQUEST, "countdownTime should be non-negative", 400)
    exchange.set_dead_man_switch(account, countdown)
    return ok({})


def add_routes(app: web.Application) -> None:
    base = "/api/v1/user"
    app.router.add_get(f"{base}/balance", get_balance)
    app.router.add_get(f"{base}/positions", get_positions)
    app.router.add_get(f"{base}/positions/history", get_positions_history)
    app.router.add_get(f"{base}/orders", get_open_orders)
    app.router.add_get(f"{base}/orders/history", get_orders_history)
    app.router.add_get(f"{base}/orders/external/{{external_id}}", get_orders_by_external_id)
    app.router.add_get(f"{base}/orders/{{id}}", get_order_by_id)
    app.router.add_get(f"{base}/trades", get_trades)
    app.router.add_get(f"{base}/funding/history", get_funding_payments)
    app.router.add_get(f"{base}/fees", get_fees)
    app.router.add_get(f"{base}/leverage", get_leverage)
    app.router.add_patch(f"{base}/leverage", patch_leverage)
    app.router.add_post(f"{base}/order", post_order)
    app.router.add_delete(f"{base}/order", delete_order_by_external_id)
    app.router.add_delete(f"{base}/order/{{id}}", delete_order_by_id)
    app.router.add_post(f"{base}/order/massCancel", post_mass_cancel)
    app.router.add_post(f"{base}/deadmanswitch", post_dead_man_switch)
