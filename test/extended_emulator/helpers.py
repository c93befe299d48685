"""Shared fixtures for the emulator tests: a running emulator, signed orders, stream readers."""
from __future__ import annotations

import asyncio
import json
import unittest
from decimal import Decimal
from pathlib import Path
from typing import Optional

import aiohttp

from extended_emulator import Emulator, FeeRates, OrderSpec, build_order_body
from extended_emulator.signing import public_key_of

VECTORS_PATH = Path("/work/shared/vectors/sdk_vectors.json")
PRIVATE_KEY_A = 0x7A7FF6FD3CAB02CCDCD4A572563F5976F8976899B03A39773795A3C486D4986
PRIVATE_KEY_B = 0x3C1E9550E66958296D11B60F8E8E7A7AD990D07FA65D5F7652C4A6C87D4E3CC
VAULT_A, VAULT_B = 10002, 20003
KEY_A, KEY_B = "api-key-a", "api-key-b"
START_MS = 1_763_000_000_000  # 2025-11-13 02:13:20 UTC
CHAIN = "SN_MAIN"
HOUR_MS = 3_600_000


def load_vectors() -> dict:
    return json.loads(VECTORS_PATH.read_text())


class StreamReader:
    """Reads JSON frames from one WebSocket with a timeout per message."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws

    async def next(self, timeout: float = 2.0) -> dict:
        msg = await asyncio.wait_for(self.ws.receive(), timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"expected a text frame, got {msg.type}")
        return json.loads(msg.data)

    async def next_of(self, msg_type: str, timeout: float = 2.0) -> dict:
        while True:
            message = await self.next(timeout)
            if message.get("type") == msg_type:
                return message

    async def drain(self, quiet: float = 0.15) -> list:
        messages = []
        while True:
            try:
                messages.append(await self.next(quiet))
            except asyncio.TimeoutError:
                return messages


class EmulatorTestCase(unittest.IsolatedAsyncioTestCase):
    network = "mainnet"
    emulator_kwargs: dict = {}

    async def asyncSetUp(self) -> None:
        kwargs = dict(seed=7, network=self.network, mm_interval=None, clock_start_ms=START_MS,
                      frozen_clock=True, ping_interval=15.0, pong_timeout=10.0)
        kwargs.update(self.emulator_kwargs)
        self.emu = Emulator(**kwargs)
        self.base_url = await self.emu.start(host="127.0.0.1", port=0)
        self.session = aiohttp.ClientSession()
        self.fees = FeeRates(maker=Decimal("0.0001"), taker=Decimal("0.0005"))
        self.account_a = self.emu.add_account(KEY_A, public_key_of(PRIVATE_KEY_A), VAULT_A, Decimal("100000"),
                                              fee_rates=self.fees)
        self.account_b = self.emu.add_account(KEY_B, public_key_of(PRIVATE_KEY_B), VAULT_B, Decimal("100000"),
                                              fee_rates=self.fees)
        self.nonce = 1000

    async def asyncTearDown(self) -> None:
        await self.session.close()
        await self.emu.stop()

    async def rest(self, method: str, path: str, key: Optional[str] = None, body=None, params=None):
        headers = {"X-Api-Key": key} if key else {}
        async with self.session.request(method, self.base_url + path, json=body, headers=headers,
                                        params=params) as response:
            return response.status, await response.json(content_type=None)

    def order(self, side: str, qty: str, price: str, key_index: int = 0, **overrides) -> dict:
        self.nonce += 1
        fields = dict(market="BTC-USD", side=side, qty=Decimal(qty), price=Decimal(price),
                      fee=Decimal("0.0005"), expiry_epoch_millis=START_MS + HOUR_MS, nonce=self.nonce,
                      external_id=f"ext-{self.nonce}")
        fields.update(overrides)
        private_key, vault = (PRIVATE_KEY_A, VAULT_A) if key_index == 0 else (PRIVATE_KEY_B, VAULT_B)
        market = self.emu.exchange.markets[fields["market"]]
        chain = "SN_MAIN" if self.network == "mainnet" else "SN_SEPOLIA"
        return build_order_body(OrderSpec(**fields), market.l2, private_key, vault, chain, market.trading)

    async def place(self, body: dict, key: str = KEY_A):
        return await self.rest("POST", "/api/v1/user/order", key, body)

    async def account_stream(self, key: str = KEY_A) -> StreamReader:
        ws = await self.session.ws_connect(self.emu.ws_url + "/account", headers={"X-Api-Key": key})
        self.addAsyncCleanup(ws.close)
        return StreamReader(ws)

    async def public_stream(self, path: str, **kwargs) -> StreamReader:
        ws = await self.session.ws_connect(self.emu.ws_url + "/" + path, **kwargs)
        self.addAsyncCleanup(ws.close)
        return StreamReader(ws)

    async def settle(self) -> None:
        """Let scheduled order processing (call_soon) run."""
        for _ in range(3):
            await asyncio.sleep(0)

    def best(self, market: str = "BTC-USD"):
        book = self.emu.exchange.books[market]
        return book.best(True), book.best(False)
