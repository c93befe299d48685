"""Admin HTTP routes (out-of-process control) and the one-command CLI."""
import asyncio
import os
import re
import sys
import unittest
from pathlib import Path

import aiohttp

from extended_emulator.signing import public_key_of

from .helpers import PRIVATE_KEY_A, START_MS, EmulatorTestCase

REPO_ROOT = Path(__file__).resolve().parents[2]


class AdminRoutesTest(EmulatorTestCase):
    async def admin(self, method: str, path: str, body=None, key=None):
        headers = {"X-Api-Key": key} if key else {}
        async with self.session.request(method, self.base_url + "/_emulator" + path, json=body,
                                        headers=headers) as response:
            return response.status, await response.json()

    async def test_accounts_ledger_clock_market_funding_and_faults(self):
        status, body = await self.admin("POST", "/accounts", {"apiKey": "remote", "vault": 555,
                                                              "starkPublicKey": hex(public_key_of(PRIVATE_KEY_A)),
                                                              "balance": "250"})
        self.assertEqual(200, status, body)
        status, ledger = await self.admin("GET", "/ledger", key="remote")
        self.assertEqual((200, "250.000000"), (status, ledger["data"]["balance"]["balance"]))
        _, clock = await self.admin("POST", "/clock", {"advanceSeconds": 60})
        self.assertEqual(START_MS + 60_000, clock["data"]["nowMs"])
        await self.admin("POST", "/markets/BTC-USD", {"markPrice": "98000.0", "fundingRate": "0.0002"})
        self.assertEqual("98000.0", str(self.emu.exchange.markets["BTC-USD"].mark_price))
        status, _ = await self.admin("POST", "/funding/run")
        self.assertEqual(200, status)
        await self.admin("POST", "/faults/http", {"status": 500, "count": 1})
        self.assertEqual(500, (await self.rest("GET", "/api/v1/info/markets"))[0])
        stream = await self.public_stream("funding")
        _, dropped = await self.admin("POST", "/faults/drop-websockets", {"pathPrefix": "funding"})
        self.assertEqual(1, dropped["data"]["connections"])
        msg = await asyncio.wait_for(stream.ws.receive(), 1.0)
        self.assertIn(msg.type, (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED))
        status, _ = await self.admin("GET", "/ledger", key="nobody")
        self.assertEqual(404, status)

    async def test_restart_over_http(self):
        await self.admin("POST", "/accounts", {"apiKey": "remote", "vault": 555, "starkPublicKey": "0x1234"})
        status, body = await self.admin("POST", "/restart", {"fresh": True})
        self.assertEqual((200, True), (status, body["data"]["restarting"]))
        for _ in range(40):
            await asyncio.sleep(0.05)
            try:
                status, _ = await self.admin("GET", "/ledger", key="remote")
            except aiohttp.ClientError:
                continue
            if status == 404:
                break
        self.assertEqual(404, status)
        self.assertEqual(200, (await self.rest("GET", "/api/v1/info/markets"))[0])


class CliTest(unittest.IsolatedAsyncioTestCase):
    async def test_one_command_start_on_loopback(self):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "extended_emulator", "--port", "0", "--seed", "7", "--network", "testnet",
            cwd=str(REPO_ROOT), stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            url = await asyncio.wait_for(self._read_url(process), 15)
            self.assertTrue(url.startswith("http://127.0.0.1:"))
            async with aiohttp.ClientSession() as session:
                async with session.get(url + "/api/v1/info/markets", params={"market": "BTC-USD"}) as response:
                    body = await response.json()
            self.assertEqual("0x4254432d3600000000000000000000", body["data"][0]["l2Config"]["syntheticId"])
        finally:
            process.terminate()
            await process.wait()

    async def _read_url(self, process) -> str:
        while True:
            line = (await process.stderr.readline()).decode()
            if not line:
                raise AssertionError("emulator exited before listening")
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                return match.group(1)
