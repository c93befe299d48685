"""Admin HTTP routes under /_emulator: the in-process controls for an out-of-process emulator."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from . import errors
from .accounts import FeeRates
from .errors import ApiError
from .responses import emulator_of, json_body, ok

PREFIX = "/_emulator"


async def _object_body(request: web.Request) -> dict:
    body = await json_body(request) if request.can_read_body else {}
    if not isinstance(body, dict):
        raise ApiError(errors.BAD_REQUEST, "Request body must be a JSON object", 400)
    return body


def _int(value: Any) -> int:
    return int(value, 0) if isinstance(value, str) else int(value)


async def add_account(request: web.Request) -> web.Response:
    body = await _object_body(request)
    fees = FeeRates(Decimal(str(body.get("makerFee", "0"))), Decimal(str(body.get("takerFee", "0.00025"))))
    try:
        account_id = emulator_of(request).add_account(
            api_key=str(body["apiKey"]), stark_public_key=_int(body["starkPublicKey"]), vault=_int(body["vault"]),
            balance=Decimal(str(body.get("balance", "10000"))), fee_rates=fees, client_id=body.get("clientId"))
    except (KeyError, ValueError) as exc:
        raise ApiError(errors.BAD_REQUEST, f"Invalid account: {exc.__class__.__name__}", 400)
    return ok({"accountId": account_id})


async def get_ledger(request: web.Request) -> web.Response:
    try:
        return ok(emulator_of(request).ledger(request.headers.get("X-Api-Key", "")))
    except KeyError:
        raise ApiError(errors.NOT_FOUND, "Unknown API key", 404)


async def get_clock(request: web.Request) -> web.Response:
    return ok({"nowMs": emulator_of(request).clock.now_ms()})


async def post_clock(request: web.Request) -> web.Response:
    body = await _object_body(request)
    clock = emulator_of(request).clock
    if body.get("freeze"):
        clock.freeze()
    if "setMs" in body:
        clock.set(_int(body["setMs"]))
    if "advanceSeconds" in body:
        clock.advance(float(body["advanceSeconds"]))
    return ok({"nowMs": clock.now_ms()})


async def post_run_funding(request: web.Request) -> web.Response:
    return ok({"payments": emulator_of(request).run_funding()})


async def post_market(request: web.Request) -> web.Response:
    emulator, market = emulator_of(request), request.match_info["market"]
    if market not in emulator.exchange.markets:
        raise ApiError("NOT_FOUND", "Market not found", 404)
    body = await _object_body(request)
    if "markPrice" in body:
        emulator.set_mark_price(market, Decimal(str(body["markPrice"])))
    if "indexPrice" in body:
        emulator.set_index_price(market, Decimal(str(body["indexPrice"])))
    if "fundingRate" in body:
        emulator.set_funding_rate(market, Decimal(str(body["fundingRate"])))
    if "status" in body:
        emulator.set_market_status(market, str(body["status"]))
    return ok({"market": market})


async def post_step_market(request: web.Request) -> web.Response:
    emulator_of(request).step_market()
    return ok({})


async def post_http_fault(request: web.Request) -> web.Response:
    body = await _object_body(request)
    emulator_of(request).faults.http(status=body.get("status"), count=int(body.get("count", 1)),
                                     delay=float(body.get("delay", 0)), path_prefix=body.get("pathPrefix"),
                                     after_processing=bool(body.get("afterProcessing", False)))
    return ok({})


async def post_ws_fault(request: web.Request) -> web.Response:
    body = await _object_body(request)
    faults, kind, prefix = emulator_of(request).faults, request.match_info["kind"], body.get("pathPrefix")
    if kind == "drop-websockets":
        limit = body.get("limit")
        affected = faults.drop_websockets(prefix, int(body.get("afterMessages", 0)),
                                          None if limit is None else int(limit))
    elif kind == "skip-seq":
        affected = faults.skip_seq(prefix)
    elif kind == "send-raw":
        affected = faults.send_raw(prefix, str(body.get("text", "{not json")))
    elif kind == "unknown-type":
        affected = faults.send_unknown_type(prefix)
    else:
        raise ApiError(errors.NOT_FOUND, "Unknown fault", 404)
    return ok({"connections": affected})


async def post_restart(request: web.Request) -> web.Response:
    body = await _object_body(request)
    emulator = emulator_of(request)
    fresh = bool(body.get("fresh", False))
    emulator.schedule_restart(fresh, delay=0.05)
    return ok({"restarting": True, "fresh": fresh})


def add_routes(app: web.Application) -> None:
    app.router.add_post(f"{PREFIX}/accounts", add_account)
    app.router.add_get(f"{PREFIX}/ledger", get_ledger)
    app.router.add_get(f"{PREFIX}/clock", get_clock)
    app.router.add_post(f"{PREFIX}/clock", post_clock)
    app.router.add_post(f"{PREFIX}/funding/run", post_run_funding)
    app.router.add_post(f"{PREFIX}/markets/{{market}}", post_market)
    app.router.add_post(f"{PREFIX}/market-makers/step", post_step_market)
    app.router.add_post(f"{PREFIX}/faults/http", post_http_fault)
    app.router.add_post(f"{PREFIX}/faults/{{kind}}", post_ws_fault)
    app.router.add_post(f"{PREFIX}/restart", post_restart)
