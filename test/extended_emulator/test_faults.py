"""Each fault control: HTTP status/delay, dropped sockets, seq gaps, raw frames, restart."""
import asyncio
import time
from decimal import Decimal

import aiohttp

from .helpers import KEY_A, EmulatorTestCase


class HttpFaultTest(EmulatorTestCase):
    async def test_next_n_requests_answer_the_injected_status(self):
        self.emu.faults.http(status=503, count=2)
        statuses = [(await self.rest("GET", "/api/v1/info/markets"))[0] for _ in range(3)]
        self.assertEqual([503, 503, 200], statuses)
        self.emu.faults.http(status=429, count=1, path_prefix="/api/v1/user")
        self.assertEqual(200, (await self.rest("GET", "/api/v1/info/markets"))[0])
        status, body = await self.rest("GET", "/api/v1/user/fees", KEY_A)
        self.assertEqual((429, 429), (status, body["error"]["code"]))
        self.emu.faults.http(status=500)
        self.assertEqual(500, (await self.rest("GET", "/api/v1/user/fees", KEY_A))[0])
        self.assertEqual(0, self.emu.faults.pending_http)

    async def test_delay_only_fault(self):
        self.emu.faults.http(status=None, delay=0.3)
        started = time.monotonic()
        status, _ = await self.rest("GET", "/api/v1/info/markets")
        self.assertEqual(200, status)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)

    async def test_fault_after_processing_places_the_order_and_answers_the_error(self):
        self.emu.faults.http(status=503, path_prefix="/api/v1/user/order", after_processing=True)
        body = self.order("BUY", "0.001", "96000.0")
        status, answer = await self.place(body)
        self.assertEqual((503, 503), (status, answer["error"]["code"]))
        status, found = await self.rest("GET", f"/api/v1/user/orders/external/{body['id']}", KEY_A)
        self.assertEqual((200, ["NEW"]), (status, [order["status"] for order in found["data"]]))
        self.emu.faults.http(status=500, path_prefix="/api/v1/user/order", after_processing=True)
        status, _ = await self.rest("DELETE", "/api/v1/user/order", KEY_A, params={"externalId": body["id"]})
        self.assertEqual(500, status)
        status, found = await self.rest("GET", f"/api/v1/user/orders/external/{body['id']}", KEY_A)
        self.assertEqual(["CANCELLED"], [order["status"] for order in found["data"]])
        self.assertEqual(0, self.emu.faults.pending_http)


class StreamFaultTest(EmulatorTestCase):
    async def test_drop_by_path_prefix(self):
        account = await self.account_stream()
        book = await self.public_stream("orderbooks/BTC-USD")
        await account.drain()
        await book.drain()
        self.assertEqual(1, self.emu.faults.drop_websockets("account"))
        msg = await asyncio.wait_for(account.ws.receive(), 1.0)
        self.assertIn(msg.type, (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED))
        self.assertFalse(book.ws.closed)
        self.assertEqual(1, self.emu.faults.drop_websockets())
        msg = await asyncio.wait_for(book.ws.receive(), 1.0)
        self.assertIn(msg.type, (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED))

    async def test_drop_only_one_of_two_sockets(self):
        older = await self.account_stream()
        newer = await self.account_stream()
        await older.drain()
        await newer.drain()
        self.assertEqual(1, self.emu.faults.drop_websockets("account", limit=1))
        msg = await asyncio.wait_for(older.ws.receive(), 1.0)
        self.assertIn(msg.type, (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED))
        await self.place(self.order("BUY", "0.001", "96000.0"))
        self.assertEqual("ORDER", (await newer.next())["type"])

    async def test_drop_after_n_messages(self):
        stream = await self.public_stream("prices/mark/BTC-USD")
        await stream.next()
        self.emu.faults.drop_websockets("prices/mark", after_messages=2)
        for price in ("97001.0", "97002.0", "97003.0"):
            self.emu.set_mark_price("BTC-USD", Decimal(price))
        self.assertEqual(["97001.0", "97002.0"], [(await stream.next())["data"]["p"] for _ in range(2)])
        msg = await asyncio.wait_for(stream.ws.receive(), 1.0)
        self.assertIn(msg.type, (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED))

    async def test_skip_seq_on_next_message(self):
        stream = await self.account_stream()
        await stream.drain()
        self.assertEqual(1, self.emu.faults.skip_seq("account"))
        await self.place(self.order("BUY", "0.001", "96000.0"))
        await self.place(self.order("BUY", "0.001", "96001.0"))
        self.assertEqual([5, 6], [(await stream.next())["seq"] for _ in range(2)])

    async def test_malformed_and_unknown_type_messages(self):
        stream = await self.public_stream("orderbooks/BTC-USD")
        await stream.next()
        self.emu.faults.send_raw("orderbooks", "{not json")
        raw = await asyncio.wait_for(stream.ws.receive(), 1.0)
        self.assertEqual("{not json", raw.data)
        self.emu.faults.send_unknown_type("orderbooks/BTC-USD")
        unknown = await stream.next()
        self.assertEqual(("UNKNOWN_EMULATOR_TYPE", 2), (unknown["type"], unknown["seq"]))


class RestartTest(EmulatorTestCase):
    async def test_restart_keeps_state_and_fresh_restart_resets(self):
        await self.place(self.order("BUY", "0.001", "96000.0"))
        await self.settle()
        stream = await self.account_stream()
        port = self.emu.port
        url = await self.emu.restart()
        self.assertEqual((self.base_url, port), (url, self.emu.port))
        msg = await asyncio.wait_for(stream.ws.receive(), 2.0)
        while msg.type == aiohttp.WSMsgType.TEXT:
            msg = await asyncio.wait_for(stream.ws.receive(), 2.0)
        status, body = await self.rest("GET", "/api/v1/user/orders", KEY_A)
        self.assertEqual((200, 1), (status, len(body["data"])))
        await self.emu.restart(fresh=True)
        status, _ = await self.rest("GET", "/api/v1/user/orders", KEY_A)
        self.assertEqual(401, status)  # accounts are gone after a fresh restart
