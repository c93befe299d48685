"""Response envelope and query helpers shared by the REST handlers."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, List, Optional

from aiohttp import web

from . import errors
from .errors import ApiError


EMULATOR_KEY = web.AppKey("emulator", object)


def emulator_of(request: web.Request):
    return request.app[EMULATOR_KEY]


def ok(data: Any, pagination: Optional[dict] = None) -> web.Response:
    body = {"status": "OK", "data": data}
    if pagination is not None:
        body["pagination"] = pagination
    return web.json_response(body)


def error_response(err: ApiError) -> web.Response:
    return web.json_response(err.to_json(), status=err.http_status)


def markets_filter(request: web.Request) -> List[str]:
    return [m for value in request.query.getall("market", []) for m in value.split(",") if m]


def int_query(request: web.Request, name: str, required: bool = False) -> Optional[int]:
    raw = request.query.get(name)
    if raw is None or raw == "":
        if required:
            raise ApiError(errors.BAD_REQUEST, f"Missing required parameter '{name}'", 400)
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(errors.BAD_REQUEST, f"Parameter '{name}' must be a number", 400)


def paginate(request: web.Request, items: List[dict], id_key: str = "id") -> web.Response:
    """Newest (highest id) first; ``cursor`` = id after which to continue; ``limit`` caps the page."""
    ordered = sorted(items, key=lambda item: item[id_key], reverse=True)
    cursor = int_query(request, "cursor")
    if cursor is not None:
        ordered = [item for item in ordered if item[id_key] < cursor]
    limit = int_query(request, "limit")
    page = ordered[:limit] if limit is not None else ordered
    pagination = {"cursor": page[-1][id_key] if page else cursor or 0, "count": len(page)}
    return ok(page, pagination)


async def json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.text(), parse_float=Decimal)
    except json.JSONDecodeError:
        raise ApiError(errors.BAD_REQUEST, "Request body is not valid JSON", 400)
