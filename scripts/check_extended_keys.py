#!/usr/bin/env python
"""Live check of Extended keys before risking money: a checklist of read-only calls, optionally a test order.

    .venv/bin/python scripts/check_extended_keys.py --network mainnet|testnet [--base-url URL]
                                                    [--place-test-order [--yes]] [--market BTC-USD]

Credentials come from the environment or from ``.env`` (see ``.env.example``; the environment wins):
EXTENDED_PERPETUAL_API_KEY, EXTENDED_PERPETUAL_STARK_PRIVATE_KEY, EXTENDED_PERPETUAL_STARK_PUBLIC_KEY,
EXTENDED_PERPETUAL_VAULT_ID. The server is ``--base-url``, else EXTENDED_PERPETUAL_BASE_URL, else Extended.

Read-only by default (GETs and stream handshakes only): markets, fees, balance (404 = zero balance),
positions, open orders, leverage, the account stream (API key in the ``X-Api-Key`` handshake header, never in
the URL; snapshots, then a reconnect), one order-book stream (SNAPSHOT then contiguous DELTAs), key
consistency, and informational ``i`` lines reporting what the venue answers to the read-only items of
``extended_emulator/ASSUMPTIONS.md``. ``--place-test-order`` (asks on stdin unless ``--yes``) adds a
minimum-size post-only BUY at best bid x 0.8 (kept above mark x (1 - limitPriceFloor)), signed by the
connector's signer, seen NEW on the account stream, cancelled and seen CANCELLED — cancelled also on failure,
Ctrl-C or SIGTERM — followed by the cancel-related assumption probes.

Every answer is parsed by the connector's own modules (markets, account messages, signer, auth, web utils).
Exit code: 0 only if every check passed, 1 otherwise, 130 when interrupted, 2 for bad flags. Secrets are never
printed (the API key at most as its last four characters). Every network step has a timeout; the defaults suit
the real exchange, the flags make tests fast.
"""
import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import signal
import sys
import time
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import aiohttp
from dotenv import dotenv_values

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_account_messages as account_messages,
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_markets as markets,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_auth import ExtendedPerpetualAuth
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_signer import (
    SigningMarket,
    StarkAccount,
    build_order_body,
    draw_nonce,
    signing_domain_for,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_utils import (
    ExtendedCredentials,
    check_key_pair,
    parse_api_key,
    parse_stark_private_key,
    parse_stark_public_key,
    parse_vault_id,
)
from hummingbot.connector.utils import get_new_client_order_id

API_KEY_ENV = "EXTENDED_PERPETUAL_API_KEY"
PRIVATE_KEY_ENV = "EXTENDED_PERPETUAL_STARK_PRIVATE_KEY"
PUBLIC_KEY_ENV = "EXTENDED_PERPETUAL_STARK_PUBLIC_KEY"
VAULT_ENV = "EXTENDED_PERPETUAL_VAULT_ID"
CREDENTIAL_ENV_NAMES = (API_KEY_ENV, PRIVATE_KEY_ENV, PUBLIC_KEY_ENV, VAULT_ENV)
SETTING_ENV_NAMES = CREDENTIAL_ENV_NAMES + (CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR,)
NETWORK_DOMAINS = {"mainnet": CONSTANTS.DEFAULT_DOMAIN, "testnet": CONSTANTS.TESTNET_DOMAIN}
DEFAULT_ENV_FILE = Path(__file__).resolve().parents[1] / ".env"
PREFERRED_SAMPLE_MARKET = "BTC-USD"

ACCOUNT_SNAPSHOT_TYPES = (account_messages.ORDER, account_messages.BALANCE, account_messages.POSITION)
TEST_ORDER_BID_FRACTION = Decimal("0.8")
ORDER_STATUS_NEW, ORDER_STATUS_CANCELLED = "NEW", "CANCELLED"
TEST_ORDER_LIFETIME_MS = 60 * 60 * 1000
ORDER_FINAL_STATUSES = frozenset(CONSTANTS.ORDER_STATE) - CONSTANTS.OPEN_ORDER_STATUSES

PASS, FAIL, INFO = "pass", "fail", "info"
MARKS = {PASS: "✓", FAIL: "✗", INFO: "i"}

HINT_API_KEY = "the API key is wrong, belongs to the other network, or was pasted with whitespace"
HINT_SIGNATURE = ("signature, vault or network mismatch: check EXTENDED_PERPETUAL_STARK_PRIVATE_KEY, "
                  "EXTENDED_PERPETUAL_VAULT_ID and --network (mainnet/testnet)")
HINT_UNREACHABLE = "no connection: check the firewall, proxy and host (--base-url / EXTENDED_PERPETUAL_BASE_URL)"
HINT_TIMEOUT = "no answer in time: check the firewall and host, or raise the timeout flags"
HINT_MANUAL_CANCEL = "cancel it by hand on extended.exchange (Orders tab)"
HINT_KEY_PAIR = "copy the private and the public key again from the same API management entry"
HINTS_BY_CODE = {
    CONSTANTS.HTTP_UNAUTHORIZED: HINT_API_KEY,
    CONSTANTS.ERROR_CODE_INVALID_STARKNET_PUBLIC_KEY: "the Stark public key is not this account's: " + HINT_KEY_PAIR,
    CONSTANTS.ERROR_CODE_INVALID_STARKNET_SIGNATURE: HINT_SIGNATURE,
    CONSTANTS.ERROR_CODE_INVALID_STARKNET_VAULT: "the vault is not this account's: check EXTENDED_PERPETUAL_VAULT_ID",
    CONSTANTS.ERROR_CODE_ACCOUNT_NOT_FOUND: "the API key's sub-account was not found: " + HINT_API_KEY,
    CONSTANTS.HTTP_TOO_MANY_REQUESTS: "rate limited: another bot on this IP uses the 1,000 requests/minute budget",
    CONSTANTS.ERROR_CODE_ORDER_COST_EXCEEDS_BALANCE: "deposit collateral first",
}


# ---------------------------------------------------------------------------------------------- results

@dataclass(frozen=True)
class CheckResult:
    """One checklist line: PASS and INFO do not fail the run, FAIL does."""

    name: str
    outcome: str
    detail: str
    hint: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome == FAIL


def passed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, PASS, detail)


def failed(name: str, detail: str, hint: str = "") -> CheckResult:
    return CheckResult(name, FAIL, detail, hint)


def informed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, INFO, detail)


class CheckProblem(Exception):
    """Why a check failed, with a hint for the user (never contains a secret)."""

    def __init__(self, reason: str, hint: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


@dataclass(frozen=True)
class CheckOptions:
    network: str = "mainnet"
    base_url: Optional[str] = None
    place_test_order: bool = False
    market: Optional[str] = None
    request_timeout: float = 15.0
    stream_timeout: float = 20.0
    book_deltas: int = 3
    book_timeout: float = 30.0
    order_timeout: float = 30.0

    @property
    def domain(self) -> str:
        return NETWORK_DOMAINS[self.network]


# ---------------------------------------------------------------------------------------------- settings

def read_settings(env_file: Optional[Path], environ: Mapping[str, str]) -> Dict[str, str]:
    """The credential and base-URL settings from ``env_file`` (if it exists), overridden by ``environ``."""
    settings: Dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        settings.update({name: value for name, value in dotenv_values(env_file).items()
                         if name in SETTING_ENV_NAMES and value})
    settings.update({name: environ[name] for name in SETTING_ENV_NAMES if environ.get(name)})
    return settings


def parse_credential_fields(settings: Mapping[str, str]) -> ExtendedCredentials:
    """Each field validated by the connector's parsers; the key pair is checked separately."""
    missing = [name for name in CREDENTIAL_ENV_NAMES if not settings.get(name, "").strip()]
    if missing:
        raise CheckProblem(f"missing {', '.join(missing)}", "copy .env.example to .env and fill it in, or export them")
    try:
        return ExtendedCredentials(
            api_key=parse_api_key(settings[API_KEY_ENV], API_KEY_ENV),
            stark_private_key=parse_stark_private_key(settings[PRIVATE_KEY_ENV], PRIVATE_KEY_ENV),
            stark_public_key=parse_stark_public_key(settings[PUBLIC_KEY_ENV], PUBLIC_KEY_ENV),
            vault_id=parse_vault_id(settings[VAULT_ENV], VAULT_ENV),
        )
    except ValueError as error:
        raise CheckProblem(str(error), "see .env.example for the expected formats") from None


def check_key_consistency(credentials: ExtendedCredentials) -> CheckResult:
    name = "key consistency"
    try:
        check_key_pair(credentials.stark_private_key, credentials.stark_public_key, PRIVATE_KEY_ENV, PUBLIC_KEY_ENV)
    except ValueError as error:
        return failed(name, str(error), HINT_KEY_PAIR)
    return passed(name, "the public key derived from the private key equals the configured one")


def resolve_base_urls(options: CheckOptions, settings: Mapping[str, str]) -> web_utils.BaseUrls:
    override = options.base_url or settings.get(CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR)
    try:
        if override:
            return web_utils.parse_base_url_override(override)
        return web_utils.base_urls(options.domain)
    except ValueError as error:
        raise CheckProblem(str(error), "use https://host[:port] (plain http only for 127.0.0.1/localhost)") from None


def key_tail(api_key: str) -> str:
    return "…" + api_key[-4:] if len(api_key) >= 8 else "(short key)"


# ---------------------------------------------------------------------------------------------- venue access

def venue_problem(error: account_messages.ExtendedAPIError, what: str) -> CheckProblem:
    """A REST error answer or a refused handshake as a reason (code, meaning, HTTP status) and a hint."""
    hint = HINTS_BY_CODE.get(error.code) or HINTS_BY_CODE.get(error.http_status, "")
    return CheckProblem(f"{what}: {error}", hint)


def handshake_problem(http_status: int, what: str) -> CheckProblem:
    return venue_problem(account_messages.ExtendedAPIError(http_status, http_status, "handshake refused"), what)


def transport_problem(error: BaseException, what: str, timeout: float) -> CheckProblem:
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return CheckProblem(f"{what}: no answer within {timeout:g} s", HINT_TIMEOUT)
    return CheckProblem(f"{what}: {type(error).__name__}: {error}", HINT_UNREACHABLE)


@dataclass(frozen=True)
class VenueReply:
    http_status: int
    payload: Any

    @property
    def error(self) -> Optional[account_messages.ExtendedAPIError]:
        return account_messages.error_from_response(self.http_status, self.payload)

    def data(self, what: str) -> Any:
        """The envelope's ``data`` (parsed by the connector), or the venue's error as a ``CheckProblem``."""
        error = self.error
        if error is not None:
            raise venue_problem(error, what)
        try:
            return account_messages.response_data(self.payload)
        except ValueError as malformed:
            raise CheckProblem(f"{what}: {malformed}") from None


@dataclass
class VenueClient:
    """REST calls and stream connections to one Extended host; private ones carry the ``X-Api-Key`` header."""

    session: aiohttp.ClientSession
    urls: web_utils.BaseUrls
    auth: ExtendedPerpetualAuth
    request_timeout: float

    def _headers(self, private: bool) -> Dict[str, str]:
        return self.auth.header_for_authentication() if private else web_utils.public_ws_headers()

    async def call(self, method: str, path: str, params: Optional[Dict[str, str]] = None,
                   body: Optional[dict] = None, private: bool = True, user_agent: bool = True) -> VenueReply:
        """One REST request; ``user_agent=False`` (a probe only) sends no User-Agent at all."""
        what = f"{method} {path}"
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        headers = self._headers(private) if user_agent else {}
        skipped = () if user_agent else (CONSTANTS.USER_AGENT_HEADER,)
        try:
            async with self.session.request(method, self.urls.rest + path, params=params, json=body, headers=headers,
                                            skip_auto_headers=skipped, timeout=timeout) as response:
                return VenueReply(response.status, await _json_or_text(response))
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise transport_problem(error, what, self.request_timeout) from None

    async def data(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self.call(method, path, **kwargs)).data(f"{method} {path}")

    @contextlib.asynccontextmanager
    async def stream(self, path: str, private: bool) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        what = f"stream {path}"
        try:
            ws = await asyncio.wait_for(self.session.ws_connect(
                self.urls.stream + path, headers=self._headers(private),
                heartbeat=CONSTANTS.WS_HEARTBEAT_TIME_INTERVAL), self.request_timeout)
        except aiohttp.WSServerHandshakeError as error:
            raise handshake_problem(error.status, what) from None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise transport_problem(error, what, self.request_timeout) from None
        try:
            yield ws
        finally:
            await ws.close()


async def _json_or_text(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    try:
        return json.loads(text)
    except ValueError:
        return text


async def collect_messages(ws: aiohttp.ClientWebSocketResponse, parse: Callable[[Any], Any],
                           done: Callable[[List[Any]], bool], timeout: float) -> Tuple[List[Any], bool]:
    """Messages parsed by ``parse`` (a connector parser) until ``done(messages)`` or ``timeout``.

    Returns them and whether ``done`` was reached; a malformed message raises ``CheckProblem``.
    """
    messages: List[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while not done(messages):
                message = await ws.receive()
                if message.type == aiohttp.WSMsgType.TEXT:
                    messages.append(parse_stream_text(message.data, parse))
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                      aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                    raise CheckProblem(f"the server closed the stream (close code {ws.close_code}) after "
                                       f"{len(messages)} messages", HINT_UNREACHABLE)
    except TimeoutError:
        return messages, False
    return messages, True


def parse_stream_text(text: str, parse: Callable[[Any], Any]) -> Any:
    try:
        return parse(json.loads(text))
    except ValueError as malformed:
        raise CheckProblem(f"malformed stream message: {malformed}") from None


def seq_numbers(messages: Sequence[Any]) -> List[Any]:
    return [message.seq for message in messages]


def is_increasing(numbers: Sequence[Any]) -> bool:
    return all(isinstance(n, int) for n in numbers) and all(b > a for a, b in zip(numbers, numbers[1:]))


def is_contiguous(numbers: Sequence[Any]) -> bool:
    return all(isinstance(n, int) for n in numbers) and all(b == a + 1 for a, b in zip(numbers, numbers[1:]))


# ---------------------------------------------------------------------------------------------- read-only checks

@dataclass(frozen=True)
class SampleMarket:
    """The market the checks use, parsed by the connector: its rules and stats, and the signer's view of it."""

    market: markets.ExtendedMarket
    signing: SigningMarket

    @property
    def name(self) -> str:
        return self.market.name


@dataclass
class StreamObservations:
    """What the checks saw that the assumption probes report."""

    account_first_seqs: List[Any] = dataclasses.field(default_factory=list)
    account_snapshot_flags: List[bool] = dataclasses.field(default_factory=list)
    zero_balance: Optional[bool] = None
    book_first_seq: Optional[int] = None
    book_delta_count: int = 0


@dataclass
class CheckContext:
    client: VenueClient
    options: CheckOptions
    credentials: ExtendedCredentials
    keys_consistent: bool
    market: Optional[SampleMarket] = None
    taker_fee: Optional[Decimal] = None
    observed: StreamObservations = dataclasses.field(default_factory=StreamObservations)


def pick_sample_market(items: List[Any], wanted: Optional[str]) -> SampleMarket:
    """``--market`` if given, else BTC-USD if ACTIVE, else the first ACTIVE market."""
    parsed = [(markets.parse_market(item), item) for item in items]
    if wanted:
        candidates = [(market, item) for market, item in parsed if market.name == wanted]
        if not candidates:
            raise CheckProblem(f"market {wanted} is not listed", "pick a listed market with --market")
    else:
        candidates = [(market, item) for market, item in parsed
                      if market.is_tradable and market.status == CONSTANTS.MARKET_STATUS_ACTIVE]
        candidates.sort(key=lambda pair: pair[0].name != PREFERRED_SAMPLE_MARKET)
        if not candidates:
            raise CheckProblem("no ACTIVE market is listed")
    market, item = candidates[0]
    return SampleMarket(market, SigningMarket.from_api(item))


async def check_markets(context: CheckContext) -> str:
    items = await context.client.data("GET", CONSTANTS.MARKETS_PATH_URL, private=False)
    if not isinstance(items, list):
        raise CheckProblem("GET /info/markets: the data is not a list")
    context.market = pick_sample_market(items, context.options.market)
    market = context.market.market
    return (f"{len(items)} markets; sample {market.name}: tick {market.min_price_change}, "
            f"step {market.min_order_size_change}, min size {market.min_order_size}")


def require_market(context: CheckContext) -> SampleMarket:
    if context.market is None:
        raise CheckProblem("skipped: no sample market (the markets check failed)")
    return context.market


def entry_for(entries: List[Any], market: str, what: str) -> Any:
    entry = next((entry for entry in entries if entry.market == market), None)
    if entry is None:
        raise CheckProblem(f"no {what} entry for {market} in the answer")
    return entry


async def check_fees(context: CheckContext) -> str:
    name = require_market(context).name
    data = await context.client.data("GET", CONSTANTS.FEES_PATH_URL, params={"market": name})
    fees = entry_for(account_messages.parse_list(data, account_messages.parse_fees), name, "fee")
    context.taker_fee = fees.taker
    return f"{name}: maker {fees.maker}, taker {fees.taker}"


async def check_balance(context: CheckContext) -> str:
    reply = await context.client.call("GET", CONSTANTS.BALANCE_PATH_URL)
    error = reply.error
    context.observed.zero_balance = error is not None and error.is_not_found
    if context.observed.zero_balance:
        return "zero balance (the venue answers 404 until the first deposit)"
    balance = account_messages.parse_balance(reply.data(f"GET {CONSTANTS.BALANCE_PATH_URL}"))
    return (f"{balance.collateral}: equity {balance.equity}, available for trade {balance.available_for_trade}")


async def check_positions(context: CheckContext) -> str:
    data = await context.client.data("GET", CONSTANTS.POSITIONS_PATH_URL)
    positions = account_messages.parse_list(data, account_messages.parse_position)
    names = sorted({position.market for position in positions})
    return f"{len(positions)} open" + (f" ({', '.join(names)})" if names else "")


async def check_open_orders(context: CheckContext) -> str:
    data = await context.client.data("GET", CONSTANTS.OPEN_ORDERS_PATH_URL)
    return f"{len(account_messages.parse_list(data, account_messages.parse_order))} open"


async def check_leverage(context: CheckContext) -> str:
    name = require_market(context).name
    data = await context.client.data("GET", CONSTANTS.LEVERAGE_PATH_URL, params={"market": name})
    leverage = entry_for(account_messages.parse_list(data, account_messages.parse_leverage), name, "leverage")
    return f"{name}: {leverage.leverage}x"


def account_types(messages: Sequence[account_messages.StreamMessage]) -> List[str]:
    return [message.type for message in messages]


def has_account_snapshots(messages: List[account_messages.StreamMessage]) -> bool:
    return set(ACCOUNT_SNAPSHOT_TYPES) <= set(account_types(messages))


async def receive_account_snapshots(context: CheckContext) -> str:
    """Connect (key in the handshake header), wait for the three snapshots, report their seq order, drop."""
    timeout = context.options.stream_timeout
    async with context.client.stream(CONSTANTS.WS_ACCOUNT_PATH, private=True) as ws:
        messages, complete = await collect_messages(
            ws, account_messages.parse_stream_message, has_account_snapshots, timeout)
    types, seqs = account_types(messages), seq_numbers(messages)
    context.observed.account_first_seqs.append(seqs[0] if seqs else None)
    context.observed.account_snapshot_flags = [message.is_snapshot for message in messages]
    if not complete:
        missing = sorted(set(ACCOUNT_SNAPSHOT_TYPES) - set(types))
        raise CheckProblem(f"no {', '.join(missing)} snapshot within {timeout:g} s (got {types})", HINT_TIMEOUT)
    if not is_increasing(seqs):
        raise CheckProblem(f"snapshots {types} arrived with seq {seqs}, not increasing")
    order = ", ".join(f"{kind}#{seq}" for kind, seq in zip(types, seqs))
    return f"X-Api-Key header accepted; snapshots {order} (seq increasing)"


async def reconnect_account_stream(context: CheckContext) -> str:
    return "reconnected after the drop; " + (await receive_account_snapshots(context)).split("; ", 1)[1]


def book_problem(updates: Sequence[markets.OrderBookStreamUpdate]) -> Optional[str]:
    """Why an order-book update sequence is wrong, or None: a SNAPSHOT first, seq contiguous."""
    if not updates or not updates[0].is_snapshot:
        return f"the first message is {'a DELTA' if updates else 'missing'}, not a {markets.ORDER_BOOK_SNAPSHOT}"
    if not is_contiguous(seq_numbers(updates)):
        return f"seq not contiguous: {seq_numbers(updates)}"
    return None


def observe_book(observed: StreamObservations, updates: Sequence[markets.OrderBookStreamUpdate]) -> None:
    observed.book_first_seq = updates[0].seq if updates else None
    observed.book_delta_count = count_deltas(updates)


def count_deltas(updates: Sequence[markets.OrderBookStreamUpdate]) -> int:
    return sum(not update.is_snapshot for update in updates)


async def check_order_book_stream(context: CheckContext) -> str:
    name = require_market(context).name
    wanted, timeout = context.options.book_deltas, context.options.book_timeout
    path = CONSTANTS.WS_ORDER_BOOK_PATH.format(market=name)
    async with context.client.stream(path, private=False) as ws:
        updates, _ = await collect_messages(ws, markets.parse_order_book_stream_message,
                                            lambda received: count_deltas(received) >= wanted, timeout)
    observe_book(context.observed, updates)
    problem = book_problem(updates)
    if problem is not None:
        raise CheckProblem(f"{path}: {problem}")
    if count_deltas(updates) == 0:
        raise CheckProblem(f"{path}: SNAPSHOT but no DELTA within {timeout:g} s", "raise --book-timeout")
    seqs = seq_numbers(updates)
    return (f"{name}: SNAPSHOT then {count_deltas(updates)} DELTAs (of {wanted} wanted), "
            f"seq {seqs[0]}..{seqs[-1]} contiguous")


READ_ONLY_CHECKS: Tuple[Tuple[str, Callable[[CheckContext], Any]], ...] = (
    ("markets", check_markets),
    ("fees", check_fees),
    ("balance", check_balance),
    ("positions", check_positions),
    ("open orders", check_open_orders),
    ("leverage", check_leverage),
    ("account stream", receive_account_snapshots),
    ("account stream reconnect", reconnect_account_stream),
    ("order book stream", check_order_book_stream),
)


async def run_check(name: str, check: Callable[[CheckContext], Any], context: CheckContext) -> CheckResult:
    try:
        return passed(name, await check(context))
    except CheckProblem as problem:
        return failed(name, problem.reason, problem.hint)
    except ValueError as malformed:  # a connector parser refused the venue's answer
        return failed(name, f"unexpected answer: {malformed}", "the venue's format may have changed")


# ---------------------------------------------------------------------------------------------- assumption probes
# Informational lines for the read-only items of extended_emulator/ASSUMPTIONS.md (numbers refer to its table):
# each reports what the venue answered, so the emulator's choices can be compared with the real exchange.

def new_external_id(trading_pair: str = PREFERRED_SAMPLE_MARKET) -> str:
    """A fresh client order id made exactly as Hummingbot makes the connector's (HBOT prefix, 32 characters)."""
    return get_new_client_order_id(is_buy=True, trading_pair=trading_pair,
                                   hbot_order_id_prefix=CONSTANTS.HBOT_ORDER_ID_PREFIX,
                                   max_id_len=CONSTANTS.MAX_ORDER_ID_LEN)


def describe_reply(reply: VenueReply) -> str:
    """What the venue answered, briefly: the explained error (and its code's JSON type), or the data's shape."""
    error = reply.error
    if error is not None:
        return f"{error} (code as {type(error.code).__name__})"
    data = reply.payload.get("data") if isinstance(reply.payload, dict) else reply.payload
    shape = f"a list of {len(data)}" if isinstance(data, list) else type(data).__name__
    return f"HTTP {reply.http_status}, {shape}"


async def probe_unknown_external_id(context: CheckContext) -> str:
    """How a lookup of a Hummingbot-format external id the venue never saw is answered (the doc types it number)."""
    path = CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH_URL.format(external_id=new_external_id())
    reply = await context.client.call("GET", path)
    return f"GET /user/orders/external/<unknown HBOT... id> -> {describe_reply(reply)}"


async def probe_unknown_order_id(context: CheckContext) -> str:
    reply = await context.client.call("GET", CONSTANTS.ORDER_BY_ID_PATH_URL.format(order_id=1))
    return f"GET /user/orders/1 -> {describe_reply(reply)}"


async def probe_unknown_market(context: CheckContext) -> str:
    path = CONSTANTS.MARKET_STATS_PATH_URL.format(market="NOPE-USD")
    return f"GET {path} -> {describe_reply(await context.client.call('GET', path, private=False))}"


async def probe_rest_without_key(context: CheckContext) -> str:
    reply = await context.client.call("GET", CONSTANTS.BALANCE_PATH_URL, private=False)
    return f"GET {CONSTANTS.BALANCE_PATH_URL} without X-Api-Key -> {describe_reply(reply)}"


async def probe_stream_without_key(context: CheckContext) -> str:
    try:
        async with context.client.stream(CONSTANTS.WS_ACCOUNT_PATH, private=False):
            return "the account stream accepted a handshake without X-Api-Key"
    except CheckProblem as problem:
        return f"refused: {problem.reason}"


async def probe_without_user_agent(context: CheckContext) -> str:
    reply = await context.client.call("GET", CONSTANTS.MARKETS_PATH_URL, private=False, user_agent=False)
    return f"GET {CONSTANTS.MARKETS_PATH_URL} without User-Agent -> {describe_reply(reply)}"


def probe_account_snapshots(context: CheckContext) -> str:
    flags = context.observed.account_snapshot_flags
    if not flags:
        return "no snapshot observed (see the account stream check)"
    return f"isSnapshot on the first messages: {flags} (balance 404 on REST: {context.observed.zero_balance})"


def probe_seq_per_connection(context: CheckContext) -> str:
    firsts = context.observed.account_first_seqs
    return f"first seq of each account-stream connection: {firsts}" if firsts else "not observed"


def probe_book_deltas(context: CheckContext) -> str:
    observed = context.observed
    if observed.book_first_seq is None:
        return "not observed (see the order book stream check)"
    return f"first message seq {observed.book_first_seq}, then {observed.book_delta_count} DELTAs"


async def probe_mark_price_on_connect(context: CheckContext) -> str:
    name, timeout = require_market(context).name, context.options.stream_timeout
    async with context.client.stream(CONSTANTS.WS_MARK_PRICE_PATH.format(market=name), private=False) as ws:
        connected = time.monotonic()
        updates, _ = await collect_messages(ws, markets.parse_price_message, bool, timeout)
        elapsed_ms = (time.monotonic() - connected) * 1000
    if not updates:
        return f"no message within {timeout:g} s of connecting"
    return f"first message after {elapsed_ms:.0f} ms: {updates[0].price_type} {updates[0].price}"


async def probe_trades_external_order_id(context: CheckContext) -> str:
    data = await context.client.data("GET", CONSTANTS.TRADES_PATH_URL, params={"limit": "1"})
    trades = account_messages.parse_list(data, account_messages.parse_trade)
    if not trades:
        return "no trade on this account to look at"
    return f"latest trade carries externalOrderId: {trades[0].external_order_id is not None}"


async def probe_unknown_candle_interval(context: CheckContext) -> str:
    path = CONSTANTS.CANDLES_PATH_URL.format(market=require_market(context).name, candle_type="trades")
    reply = await context.client.call("GET", path, params={"interval": "PT7M", "limit": "1"}, private=False)
    return f"GET {path}?interval=PT7M -> {describe_reply(reply)}"


async def probe_top_of_book_stream(context: CheckContext) -> str:
    """ASSUMPTIONS 42: ``?depth=1`` — best bid/ask SNAPSHOTs only, no DELTAs (a few messages, bounded wait)."""
    name, timeout = require_market(context).name, context.options.book_timeout
    path = CONSTANTS.WS_ORDER_BOOK_PATH.format(market=name) + "?depth=1"
    async with context.client.stream(path, private=False) as ws:
        updates, _ = await collect_messages(ws, markets.parse_order_book_stream_message,
                                            lambda received: len(received) >= 3, timeout)
    kinds = ["SNAPSHOT" if update.is_snapshot else "DELTA" for update in updates]
    return f"{path}: {kinds} (up to 3 messages, waited at most {timeout:g} s)"


def synchronous(probe: Callable[[CheckContext], str]) -> Callable[[CheckContext], Any]:
    async def run(context: CheckContext) -> str:
        return probe(context)
    return run


ASSUMPTION_PROBES: Tuple[Tuple[str, Callable[[CheckContext], Any]], ...] = (
    ("assumption: HBOT-format external id lookup", probe_unknown_external_id),
    ("assumption 2: unknown order id", probe_unknown_order_id),
    ("assumption 2: unknown market", probe_unknown_market),
    ("assumption 3: REST without API key", probe_rest_without_key),
    ("assumption 3: account stream without API key", probe_stream_without_key),
    ("assumption 4: no User-Agent", probe_without_user_agent),
    ("assumption 22: account snapshots", synchronous(probe_account_snapshots)),
    ("assumption 23: seq per connection", synchronous(probe_seq_per_connection)),
    ("assumption 28: order-book deltas", synchronous(probe_book_deltas)),
    ("assumption 29: mark price on connect", probe_mark_price_on_connect),
    ("assumption 42: order book with depth=1", probe_top_of_book_stream),
    ("assumption 35: externalOrderId on REST trades", probe_trades_external_order_id),
    ("assumption 38: unknown candle interval", probe_unknown_candle_interval),
)


async def run_probe(name: str, probe: Callable[[CheckContext], Any], context: CheckContext) -> CheckResult:
    """Informational: report what the venue answered; not being able to ask is not a failure of the keys."""
    try:
        return informed(name, await probe(context))
    except (CheckProblem, ValueError) as problem:
        return informed(name, f"could not ask: {getattr(problem, 'reason', problem)}")


# ---------------------------------------------------------------------------------------------- test order

@dataclass(frozen=True)
class TestOrderPlan:
    market: SigningMarket
    external_id: str
    qty: Decimal
    price: Decimal
    fee_rate: Decimal


def round_up_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_CEILING) * step


def plan_test_order(sample: SampleMarket, fee_rate: Decimal) -> TestOrderPlan:
    """A minimum-size BUY at best bid x 0.8, but above mark x (1 - limitPriceFloor), below the best bid."""
    market, tick = sample.market, sample.market.min_price_change
    best_bid = market.stats.bid_price if market.stats is not None else None
    if not best_bid or best_bid <= 0:
        raise CheckProblem(f"{market.name} has no best bid in its statistics", "try another market with --market")
    lowest_allowed = market.stats.mark_price * (1 - market.limit_price_floor) + tick
    price = round_up_to(max(best_bid * TEST_ORDER_BID_FRACTION, lowest_allowed), tick)
    if price >= best_bid:
        raise CheckProblem(f"no resting price below the best bid {best_bid} above the floor on {market.name} "
                           f"(mark {market.stats.mark_price}, floor ratio {market.limit_price_floor})",
                           "try another market with --market")
    step = market.min_order_size_change
    qty = round_up_to(max(market.min_order_size, step), step)
    return TestOrderPlan(sample.signing, new_external_id(market.name), qty, price, fee_rate)


def signed_test_order_body(credentials: ExtendedCredentials, domain: str, plan: TestOrderPlan) -> dict:
    account = StarkAccount(vault=credentials.vault_id, public_key=credentials.stark_public_key,
                           private_key=credentials.stark_private_key)
    now_ms = int(time.time() * 1000)
    return build_order_body(
        account, signing_domain_for(domain), plan.market, external_id=plan.external_id,
        side=CONSTANTS.SIDE_BUY, order_type=CONSTANTS.ORDER_TYPE_LIMIT, qty=plan.qty, price=plan.price,
        fee_rate=plan.fee_rate, expiry_ms=now_ms + TEST_ORDER_LIFETIME_MS, nonce=draw_nonce(random.SystemRandom()),
        now_ms=now_ms, time_in_force=CONSTANTS.TIME_IN_FORCE_GTT, post_only=True,
        self_trade_protection=CONSTANTS.SELF_TRADE_PROTECTION_ACCOUNT)


def order_updates(messages: Sequence[account_messages.StreamMessage],
                  external_id: str) -> List[account_messages.AccountOrder]:
    """Every update of ``external_id`` in the account stream's ORDER messages, in arrival order."""
    return [order for message in messages if message.type == account_messages.ORDER
            for order in message.items if order.external_id == external_id]


async def await_order_status(ws: aiohttp.ClientWebSocketResponse, external_id: str, wanted: str,
                             timeout: float) -> account_messages.AccountOrder:
    """Wait until the account stream shows the order ``wanted``; any other final status is a problem."""
    def settled(order: account_messages.AccountOrder) -> bool:
        return order.status == wanted or order.status in ORDER_FINAL_STATUSES

    messages, complete = await collect_messages(
        ws, account_messages.parse_stream_message,
        lambda received: any(settled(order) for order in order_updates(received, external_id)), timeout)
    if not complete:
        raise CheckProblem(f"the order was not seen {wanted} on the account stream within {timeout:g} s",
                           HINT_TIMEOUT)
    order = next(order for order in order_updates(messages, external_id) if settled(order))
    if order.status != wanted:
        reason = f" ({order.status_reason})" if order.status_reason else ""
        raise CheckProblem(f"the order went {order.status}{reason}, not {wanted}")
    return order


class Recorder:
    """Collects results and hands each to ``report`` as soon as it is known (the CLI prints it)."""

    def __init__(self, report: Callable[[CheckResult], None]):
        self.results: List[CheckResult] = []
        self._report = report

    def record(self, result: CheckResult) -> None:
        self.results.append(result)
        self._report(result)


@dataclass
class OrderTracking:
    may_be_open: bool = False


async def submit_test_order(context: CheckContext, body: dict, tracking: OrderTracking) -> None:
    tracking.may_be_open = True  # from here on an interruption may leave the order resting
    reply = await context.client.call("POST", CONSTANTS.ORDER_PATH_URL, body=body)
    error = reply.error
    if error is not None:
        tracking.may_be_open = False  # refused: nothing rests
        raise venue_problem(error, f"POST {CONSTANTS.ORDER_PATH_URL}")


async def cancel_test_order(context: CheckContext, external_id: str) -> Any:
    """``DELETE /user/order?externalId=``; returns the answer's ``data`` (ASSUMPTIONS 44 reports its shape)."""
    return await context.client.data("DELETE", CONSTANTS.ORDER_PATH_URL, params={"externalId": external_id})


async def clean_up_test_order(context: CheckContext, external_id: str) -> CheckResult:
    """Last resort (failure or interruption): cancel by external id; 404 means nothing is resting."""
    name = "test order cleanup"
    try:
        reply = await context.client.call("DELETE", CONSTANTS.ORDER_PATH_URL, params={"externalId": external_id})
    except CheckProblem as problem:
        return failed(name, f"could not cancel {external_id}: {problem.reason}", HINT_MANUAL_CANCEL)
    if reply.error is None:
        return passed(name, f"cancelled {external_id}")
    if reply.error.is_not_found:
        return informed(name, f"nothing to cancel: {external_id} is not open")
    return failed(name, f"could not cancel {external_id}: {reply.error}", HINT_MANUAL_CANCEL)


async def place_and_cancel(context: CheckContext, plan: TestOrderPlan, body: dict, recorder: Recorder) -> None:
    """POST, see NEW, DELETE, see CANCELLED on one account-stream connection; clean up on any exit."""
    timeout, external_id = context.options.order_timeout, plan.external_id
    async with context.client.stream(CONSTANTS.WS_ACCOUNT_PATH, private=True) as ws:
        await collect_messages(ws, account_messages.parse_stream_message, has_account_snapshots,
                               context.options.stream_timeout)
        tracking = OrderTracking()
        try:
            await submit_test_order(context, body, tracking)
            await await_order_status(ws, external_id, ORDER_STATUS_NEW, timeout)
            recorder.record(passed("test order placed", f"post-only BUY {plan.qty} {plan.market.name} @ "
                                   f"{plan.price} signed by the connector, seen NEW ({external_id})"))
            cancel_answer = await cancel_test_order(context, external_id)
            cancelled = await await_order_status(ws, external_id, ORDER_STATUS_CANCELLED, timeout)
            tracking.may_be_open = False
            recorder.record(passed("test order cancelled", "DELETE /user/order?externalId=..., seen CANCELLED"))
            recorder.record(informed("assumption 44: cancel answer", f"data: {json.dumps(cancel_answer)[:80]}"))
            recorder.record(informed("assumption 7: user cancel on the stream",
                                     f"CANCELLED with statusReason {cancelled.status_reason or '(none)'}"))
        finally:
            if tracking.may_be_open:
                recorder.record(await clean_up_test_order(context, external_id))


def prepare_test_order(context: CheckContext) -> Tuple[TestOrderPlan, dict]:
    if not context.keys_consistent:
        raise CheckProblem("not placed: the key consistency check failed", HINT_KEY_PAIR)
    if context.taker_fee is None:
        raise CheckProblem("not placed: no fee rate (the fees check failed)")
    plan = plan_test_order(require_market(context), context.taker_fee)
    try:
        return plan, signed_test_order_body(context.credentials, context.options.domain, plan)
    except ValueError as error:
        raise CheckProblem(f"not placed: the signer refused the order: {error}") from None


async def describe_cancel(context: CheckContext, external_id: str) -> str:
    reply = await context.client.call("DELETE", CONSTANTS.ORDER_PATH_URL, params={"externalId": external_id})
    return describe_reply(reply)


async def probe_cancels(context: CheckContext, cancelled_external_id: str, recorder: Recorder) -> None:
    """ASSUMPTIONS 6, only with --place-test-order: cancels of an unknown and of an already-cancelled order."""
    for name, external_id in (("assumption 6: cancel of an unknown external id", new_external_id()),
                              ("assumption 6: cancel of an already-cancelled order", cancelled_external_id)):
        recorder.record(await run_probe(name, lambda ctx: describe_cancel(ctx, external_id), context))


async def run_test_order(context: CheckContext, recorder: Recorder) -> None:
    try:
        plan, body = prepare_test_order(context)
        await place_and_cancel(context, plan, body, recorder)
    except CheckProblem as problem:
        recorder.record(failed("test order", problem.reason, problem.hint))
        return
    await probe_cancels(context, plan.external_id, recorder)


# ---------------------------------------------------------------------------------------------- orchestration

def describe_credentials(credentials: ExtendedCredentials) -> str:
    public_hex = hex(credentials.stark_public_key)
    return (f"API key {key_tail(credentials.api_key)}, vault {credentials.vault_id}, "
            f"public key {public_hex[:8]}…{public_hex[-4:]}")


async def run_checks(options: CheckOptions, settings: Mapping[str, str],
                     report: Callable[[CheckResult], None] = lambda result: None) -> List[CheckResult]:
    """Every check in order; results go to ``report`` as they come and are returned at the end."""
    recorder = Recorder(report)
    try:
        urls = resolve_base_urls(options, settings)
    except CheckProblem as problem:
        recorder.record(failed("server", problem.reason, problem.hint))
        return recorder.results
    recorder.record(informed("server", f"{urls.rest} ({options.network}"
                             + (", overridden)" if urls.overridden else ")")))
    try:
        credentials = parse_credential_fields(settings)
    except CheckProblem as problem:
        recorder.record(failed("credentials", problem.reason, problem.hint))
        return recorder.results
    recorder.record(passed("credentials", describe_credentials(credentials)))
    consistency = check_key_consistency(credentials)
    recorder.record(consistency)
    async with aiohttp.ClientSession() as session:
        client = VenueClient(session, urls, ExtendedPerpetualAuth(credentials.api_key), options.request_timeout)
        context = CheckContext(client, options, credentials, keys_consistent=not consistency.failed)
        for name, check in READ_ONLY_CHECKS:
            recorder.record(await run_check(name, check, context))
        for name, probe in ASSUMPTION_PROBES:
            recorder.record(await run_probe(name, probe, context))
        if options.place_test_order:
            await run_test_order(context, recorder)
    return recorder.results


# ---------------------------------------------------------------------------------------------- CLI

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Check Extended API keys against the live exchange.")
    parser.add_argument("--network", choices=sorted(NETWORK_DOMAINS), default="mainnet")
    parser.add_argument("--base-url",
                        help=f"another Extended-compatible host (else ${CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR})")
    parser.add_argument("--env-file", type=Path, default=DEFAULT_ENV_FILE, help="credentials file (default: .env)")
    parser.add_argument("--market", help="market for fees, leverage, the book stream and the test order")
    parser.add_argument("--place-test-order", action="store_true",
                        help="also place a minimum-size post-only order far from the market, then cancel it")
    parser.add_argument("--yes", action="store_true", help="do not ask before placing the test order")
    defaults = CheckOptions()
    for flag, value, what in (("--request-timeout", defaults.request_timeout, "seconds per REST call / handshake"),
                              ("--stream-timeout", defaults.stream_timeout, "seconds to wait for snapshots"),
                              ("--book-timeout", defaults.book_timeout, "seconds to wait for book deltas"),
                              ("--order-timeout", defaults.order_timeout, "seconds to see an order update")):
        parser.add_argument(flag, type=float, default=value, help=f"{what} (default {value:g})")
    parser.add_argument("--book-deltas", type=int, default=defaults.book_deltas, help="book deltas to wait for")
    return parser


def options_from_args(args: argparse.Namespace) -> CheckOptions:
    return CheckOptions(network=args.network, base_url=args.base_url, place_test_order=args.place_test_order,
                        market=args.market, request_timeout=args.request_timeout,
                        stream_timeout=args.stream_timeout, book_deltas=args.book_deltas,
                        book_timeout=args.book_timeout, order_timeout=args.order_timeout)


def confirmed(network: str, ask: Callable[[str], str]) -> bool:
    question = (f"Place a minimum-size post-only BUY far below the market on Extended {network}, "
                "and cancel it right after? [y/N] ")
    try:
        return ask(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def secrets_of(settings: Mapping[str, str]) -> List[str]:
    """The texts that must never be printed: the API key and the private key (as given, and bare hex)."""
    values = [settings.get(API_KEY_ENV, "").strip(), settings.get(PRIVATE_KEY_ENV, "").strip()]
    values += [value[2:] for value in values if value.lower().startswith("0x")]
    return [value for value in values if len(value) >= 6]


def redact(text: str, hidden: Sequence[str]) -> str:
    for secret in hidden:
        text = text.replace(secret, "***")
    return text


def format_result(result: CheckResult) -> str:
    line = f"{MARKS[result.outcome]} {result.name}: {result.detail}"
    return line + (f"\n    hint: {result.hint}" if result.hint else "")


def summary(results: Sequence[CheckResult]) -> str:
    failures = sum(result.failed for result in results)
    checks = sum(result.outcome != INFO for result in results)
    if failures:
        return f"{failures} of {checks} checks failed."
    return f"All {checks} checks passed."


@contextlib.contextmanager
def cancel_on_signals(task: "asyncio.Task[Any]", enabled: bool):
    """SIGINT / SIGTERM cancel ``task`` once (so its finally blocks cancel a resting test order)."""
    loop = asyncio.get_running_loop()
    handled = (signal.SIGINT, signal.SIGTERM) if enabled else ()
    for signal_number in handled:
        loop.add_signal_handler(signal_number, lambda: task.cancelling() or task.cancel())
    try:
        yield
    finally:
        for signal_number in handled:
            loop.remove_signal_handler(signal_number)


async def main_async(argv: Sequence[str], environ: Optional[Mapping[str, str]] = None,
                     out: Any = None, ask: Callable[[str], str] = input, handle_signals: bool = True) -> int:
    """The CLI: parse flags, read settings, ask before a test order, print the checklist; returns the exit code."""
    out = out or sys.stdout
    args = build_parser().parse_args(list(argv))
    settings = read_settings(args.env_file, os.environ if environ is None else environ)
    options = options_from_args(args)
    hidden = secrets_of(settings)

    def emit(text: str) -> None:
        print(redact(text, hidden), file=out, flush=True)

    try:
        if options.place_test_order and not args.yes and not confirmed(options.network, ask):
            emit("Test order not confirmed: running the read-only checks only.")
            options = dataclasses.replace(options, place_test_order=False)
    except KeyboardInterrupt:
        emit("Interrupted.")
        return 130
    task = asyncio.current_task()
    results: List[CheckResult] = []
    try:
        with cancel_on_signals(task, handle_signals):
            results = await run_checks(options, settings, lambda result: emit(format_result(result)))
    except asyncio.CancelledError:
        emit("Interrupted.")
        return 130
    emit(summary(results))
    return 1 if any(result.failed for result in results) else 0


def main() -> None:
    sys.exit(asyncio.run(main_async(sys.argv[1:])))


if __name__ == "__main__":
    main()
