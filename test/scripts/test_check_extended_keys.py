"""scripts/check_extended_keys.py run in-process against the local emulator (loopback only, short timeouts)."""
import asyncio
import contextlib
import importlib.util
import io
import os
import signal
import tempfile
import unittest
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Optional
from unittest.mock import patch

import aiohttp
import fast_stark_crypto

from extended_emulator import Emulator

SCRIPT_PATH = Path(__file__).resolve().parents[2] / "scripts" / "check_extended_keys.py"


def load_script():
    spec = importlib.util.spec_from_file_location("check_extended_keys", SCRIPT_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_keys = load_script()

# Test-only key pairs (the SDK test suite's public vector and an arbitrary second key); no real account.
PRIVATE_KEY = 0x7a7ff6fd3cab02ccdcd4a572563f5976f8976899b03a39773795a3c486d4986
PUBLIC_KEY = fast_stark_crypto.get_public_key(PRIVATE_KEY)
OTHER_PUBLIC_KEY = fast_stark_crypto.get_public_key(0x1234567890abcdef1234567890abcdef)
API_KEY = "emulator-test-api-key-0123456789abcdef"
VAULT = 10002
FAST_FLAGS = ["--request-timeout", "3", "--stream-timeout", "3", "--book-timeout", "5", "--book-deltas", "2",
              "--order-timeout", "3"]


def credentials_environment(api_key: str = API_KEY, public_key: int = PUBLIC_KEY, vault: int = VAULT) -> Dict[str, str]:
    return {
        "EXTENDED_PERPETUAL_API_KEY": api_key,
        "EXTENDED_PERPETUAL_STARK_PRIVATE_KEY": hex(PRIVATE_KEY),
        "EXTENDED_PERPETUAL_STARK_PUBLIC_KEY": hex(public_key),
        "EXTENDED_PERPETUAL_VAULT_ID": str(vault),
    }


class CheckScriptAgainstEmulatorTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.emulator = Emulator(seed=7, network="mainnet", mm_interval=0.1)
        self.base_url = await self.emulator.start(host="127.0.0.1", port=0)
        self.emulator.add_account(api_key=API_KEY, stark_public_key=PUBLIC_KEY, vault=VAULT, balance=Decimal("10000"))
        self.missing_env_file = Path(tempfile.gettempdir()) / "no-such-extended-check.env"

    async def asyncTearDown(self):
        await self.emulator.stop()

    async def run_script(self, *flags: str, environ: Optional[Dict[str, str]] = None, answer: str = "",
                         handle_signals: bool = False, env_file: Optional[Path] = None):
        """Run main_async; returns (exit code, its checklist + anything else written to stdout / stderr)."""
        out, stray_out, err = io.StringIO(), io.StringIO(), io.StringIO()
        argv = ["--base-url", self.base_url, "--env-file", str(env_file or self.missing_env_file), *FAST_FLAGS, *flags]
        with contextlib.redirect_stdout(stray_out), contextlib.redirect_stderr(err):
            code = await check_keys.main_async(argv, environ=credentials_environment() if environ is None else environ,
                                               out=out, ask=lambda question: answer, handle_signals=handle_signals)
        return code, out.getvalue() + stray_out.getvalue() + err.getvalue()

    def account_orders(self, api_key: str = API_KEY) -> List:
        return list(self.emulator.exchange.account_by_key(api_key).orders.values())

    def open_orders(self) -> List:
        return [order for order in self.account_orders() if order.is_open]

    def assert_no_secret(self, output: str, api_key: str = API_KEY):
        self.assertNotIn(api_key, output)
        self.assertNotIn(hex(PRIVATE_KEY), output)
        self.assertNotIn(hex(PRIVATE_KEY)[2:], output)

    def line(self, output: str, name: str) -> str:
        return next(line for line in output.splitlines() if line[2:].startswith(name + ":"))

    async def test_every_check_passes_with_the_test_order(self):
        code, output = await self.run_script("--place-test-order", "--yes")
        self.assertEqual(0, code, output)
        for name in ("credentials", "key consistency", "markets", "fees", "balance", "positions", "open orders",
                     "leverage", "account stream", "account stream reconnect", "order book stream",
                     "test order placed", "test order cancelled"):
            self.assertTrue(self.line(output, name).startswith("✓"), output)
        self.assertNotIn("✗", output)
        self.assertIn("ORDER#1, BALANCE#2, POSITION#3", self.line(output, "account stream"))
        for name, _ in check_keys.ASSUMPTION_PROBES:
            self.assertTrue(self.line(output, name).startswith("i "), name)
        self.assertIn("404", self.line(output, "assumption: HBOT-format external id lookup"))
        for name in ("assumption 6: cancel of an unknown external id", "assumption 6: cancel of an already-cancelled "
                     "order", "assumption 7: user cancel on the stream", "assumption 44: cancel answer"):
            self.assertTrue(self.line(output, name).startswith("i "), name)
        self.assertIn("…cdef", output)
        self.assert_no_secret(output)
        orders = self.account_orders()
        self.assertEqual(1, len(orders))
        self.assertEqual("CANCELLED", orders[0].status)
        self.assertTrue(orders[0].post_only)
        self.assertTrue(orders[0].external_id.startswith("HBOT"))

    async def test_api_key_travels_only_in_the_handshake_header(self):
        original = aiohttp.ClientSession.ws_connect
        with patch.object(aiohttp.ClientSession, "ws_connect", autospec=True, side_effect=original) as ws_connect:
            code, output = await self.run_script()
        self.assertEqual(0, code, output)
        account_calls = [call for call in ws_connect.call_args_list if "/account" in call.args[1]]
        for call in account_calls:
            self.assertNotIn("?", call.args[1])
        keyed = [call for call in account_calls if call.kwargs["headers"].get("X-Api-Key") == API_KEY]
        self.assertEqual(2, len(keyed))  # first connection, then the reconnect
        self.assertEqual(1, len(account_calls) - len(keyed))  # the assumption probe without a key

    async def test_read_only_run_sends_only_gets(self):
        original = aiohttp.ClientSession._request
        with patch.object(aiohttp.ClientSession, "_request", autospec=True, side_effect=original) as request:
            code, output = await self.run_script()
        self.assertEqual(0, code, output)
        methods = {call.args[1] for call in request.call_args_list}
        self.assertEqual({"GET"}, methods)  # websocket handshakes are GETs too; no POST, no DELETE
        self.assertEqual([], self.account_orders())
        self.assertNotIn("test order", output)
        self.assertNotIn("assumption 6", output)

    async def test_unknown_api_key_reports_401_with_the_api_key_hint(self):
        code, output = await self.run_script(environ=credentials_environment(api_key="unknown-api-key-9999"))
        self.assertEqual(1, code, output)
        for name in ("fees", "balance", "positions", "account stream"):
            self.assertTrue(self.line(output, name).startswith("✗"), output)
        self.assertIn("HTTP 401", self.line(output, "balance"))
        self.assertIn("hint: the API key is wrong", output)
        self.assertTrue(self.line(output, "markets").startswith("✓"))
        self.assert_no_secret(output, api_key="unknown-api-key-9999")
        self.assertTrue(output.rstrip().endswith("checks failed."))

    async def test_mismatched_public_key_is_caught_locally_and_no_order_is_placed(self):
        self.emulator.add_account(api_key="mismatch-api-key-0000", stark_public_key=OTHER_PUBLIC_KEY, vault=VAULT + 1)
        environment = credentials_environment(api_key="mismatch-api-key-0000", public_key=OTHER_PUBLIC_KEY)
        code, output = await self.run_script("--place-test-order", "--yes", environ=environment)
        self.assertEqual(1, code, output)
        self.assertTrue(self.line(output, "key consistency").startswith("✗"), output)
        self.assertIn("not placed", self.line(output, "test order"))
        self.assertEqual([], self.account_orders("mismatch-api-key-0000"))
        self.assert_no_secret(output, api_key="mismatch-api-key-0000")

    async def test_wrong_vault_is_refused_with_1101_and_a_vault_network_hint(self):
        code, output = await self.run_script("--place-test-order", "--yes",
                                             environ=credentials_environment(vault=VAULT + 7))
        self.assertEqual(1, code, output)
        test_order = self.line(output, "test order")
        self.assertTrue(test_order.startswith("✗"), output)
        self.assertIn("error 1101", test_order)
        hint = output.split(test_order, 1)[1].splitlines()[1]
        self.assertIn("VAULT_ID", hint)
        self.assertIn("--network", hint)
        self.assertEqual([], self.account_orders())
        self.assert_no_secret(output)

    async def test_wrong_network_signature_is_refused_with_1101(self):
        code, output = await self.run_script("--place-test-order", "--yes", "--network", "testnet")
        self.assertEqual(1, code, output)
        self.assertIn("error 1101", self.line(output, "test order"))

    async def test_declined_confirmation_runs_read_only(self):
        code, output = await self.run_script("--place-test-order", answer="n")
        self.assertEqual(0, code, output)
        self.assertIn("not confirmed", output)
        self.assertEqual([], self.account_orders())

    async def test_confirmed_on_stdin_places_the_order(self):
        code, output = await self.run_script("--place-test-order", answer="y")
        self.assertEqual(0, code, output)
        self.assertEqual(["CANCELLED"], [order.status for order in self.account_orders()])

    async def test_credentials_from_env_file_with_environment_winning(self):
        with tempfile.TemporaryDirectory() as folder:
            env_file = Path(folder) / ".env"
            lines = [f"{name}={value}" for name, value in credentials_environment(api_key="wrong-key-in-file").items()]
            env_file.write_text("\n".join(lines) + "\n")
            code, output = await self.run_script(environ={}, env_file=env_file)
            self.assertEqual(1, code)  # the file's key is unknown to the emulator
            code, output = await self.run_script(environ={"EXTENDED_PERPETUAL_API_KEY": API_KEY}, env_file=env_file)
        self.assertEqual(0, code, output)

    async def test_a_silent_server_times_out_with_a_firewall_host_hint(self):
        self.emulator.faults.http(status=None, count=1, delay=2.0, path_prefix="/api/v1/info/markets")
        code, output = await self.run_script("--request-timeout", "0.3")
        self.assertEqual(1, code, output)
        self.assertIn("no answer within 0.3 s", self.line(output, "markets"))
        self.assertIn("hint: no answer in time: check the firewall and host", output)

    async def test_a_seq_gap_on_the_book_stream_fails_the_book_check(self):
        async def skip_once_connected():
            await self.wait_for(lambda: self.emulator.hub.matching("orderbooks/BTC-USD"))
            self.emulator.faults.skip_seq("orderbooks/BTC-USD")

        gap = asyncio.create_task(skip_once_connected())
        code, output = await self.run_script()
        await gap
        self.assertEqual(1, code, output)
        self.assertIn("seq not contiguous", self.line(output, "order book stream"))

    async def test_missing_credentials_fail_before_any_request(self):
        code, output = await self.run_script(environ={})
        self.assertEqual(1, code)
        self.assertIn("✗ credentials: missing EXTENDED_PERPETUAL_API_KEY", output)
        self.assertIn("hint: copy .env.example", output)

    async def test_sigint_or_sigterm_while_the_test_order_rests_still_cancels_it(self):
        async def hang(context, external_id):  # the normal cancel never comes: only the cleanup can cancel
            await asyncio.sleep(60)

        for signal_number in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=signal_number.name), patch.object(check_keys, "cancel_test_order", hang):
                run = asyncio.create_task(self.run_script("--place-test-order", "--yes", handle_signals=True))
                await self.wait_for(lambda: len(self.open_orders()) == 1)
                os.kill(os.getpid(), signal_number)
                code, output = await asyncio.wait_for(run, 10)
                self.assertEqual(130, code, output)
                self.assertTrue(self.line(output, "test order cleanup").startswith("✓"), output)
                self.assertEqual([], self.open_orders())
        self.assertEqual(["CANCELLED", "CANCELLED"], [order.status for order in self.account_orders()])

    async def test_zero_balance_404_is_reported_as_zero_not_as_a_failure(self):
        self.emulator.add_account(api_key="empty-account-api-key", stark_public_key=PUBLIC_KEY, vault=VAULT + 2,
                                  balance=Decimal("0"))
        environment = credentials_environment(api_key="empty-account-api-key", vault=VAULT + 2)
        code, output = await self.run_script(environ=environment)
        self.assertEqual(0, code, output)
        self.assertIn("✓ balance: zero balance", output)

    async def wait_for(self, condition, timeout: float = 10.0):
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.02)


class CheckScriptWithoutServerTest(unittest.IsolatedAsyncioTestCase):
    async def test_unreachable_host_fails_with_a_firewall_host_hint(self):
        with socket_bound_but_not_listening() as port:
            out = io.StringIO()
            code = await check_keys.main_async(
                ["--base-url", f"http://127.0.0.1:{port}", "--env-file", os.devnull, *FAST_FLAGS],
                environ=credentials_environment(), out=out, handle_signals=False)
        self.assertEqual(1, code)
        self.assertIn("firewall", out.getvalue())
        self.assertNotIn(API_KEY, out.getvalue())

    async def test_plain_http_to_a_remote_host_is_refused(self):
        out = io.StringIO()
        code = await check_keys.main_async(["--base-url", "http://example.com", "--env-file", os.devnull],
                                           environ=credentials_environment(), out=out, handle_signals=False)
        self.assertEqual(1, code)
        self.assertIn("✗ server: ", out.getvalue())

    async def test_unknown_network_is_a_usage_error(self):
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit) as exit_info:
            await check_keys.main_async(["--network", "moon"], environ={}, out=io.StringIO(), handle_signals=False)
        self.assertEqual(2, exit_info.exception.code)


@contextlib.contextmanager
def socket_bound_but_not_listening():
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


class CheckScriptPureFunctionsTest(unittest.TestCase):
    def test_book_sequence_rules(self):
        def update(kind: str, seq: int):
            return check_keys.markets.parse_order_book_stream_message(
                {"type": kind, "seq": seq, "ts": 1, "data": {"m": "BTC-USD", "b": [], "a": []}})

        snapshot, delta = update("SNAPSHOT", 1), update("DELTA", 2)
        self.assertIsNone(check_keys.book_problem([snapshot, delta, update("DELTA", 3)]))
        self.assertIn("not a SNAPSHOT", check_keys.book_problem([delta]))
        self.assertIn("not contiguous", check_keys.book_problem([snapshot, update("DELTA", 3)]))

    def test_hints_by_code(self):
        error = check_keys.account_messages.error_from_response(
            400, {"status": "ERROR", "error": {"code": 1101, "message": "bad"}})
        problem = check_keys.venue_problem(error, "POST x")
        self.assertIn("error 1101", problem.reason)
        self.assertIn("vault", problem.hint.lower())
        self.assertIn("network", problem.hint)
        self.assertIn("whitespace", check_keys.handshake_problem(401, "stream /account").hint)

    def test_redaction_and_key_tail(self):
        settings = credentials_environment()
        hidden = check_keys.secrets_of(settings)
        text = f"{API_KEY} {hex(PRIVATE_KEY)} {hex(PRIVATE_KEY)[2:]}"
        self.assertEqual("*** *** ***", check_keys.redact(text, hidden))
        self.assertEqual("…cdef", check_keys.key_tail(API_KEY))

    def test_test_order_price_is_far_below_the_bid_on_the_tick_and_within_the_floor(self):
        plan = check_keys.plan_test_order(sample_market(limit_price_floor="0.5"), Decimal("0.00025"))
        self.assertEqual(Decimal("80000.0"), plan.price)
        self.assertEqual(Decimal("0.0001"), plan.qty)
        self.assertTrue(plan.external_id.startswith("HBOT"))
        self.assertLessEqual(len(plan.external_id), 32)
        floored = check_keys.plan_test_order(sample_market(limit_price_floor="0.05"), Decimal("0.00025")).price
        self.assertEqual(Decimal("95009.6"), floored)  # mark x 0.95 + one tick, on the tick

    def test_no_test_order_when_the_floor_leaves_no_room_below_the_bid(self):
        with self.assertRaises(check_keys.CheckProblem):
            check_keys.plan_test_order(sample_market(limit_price_floor="0.00001"), Decimal("0.00025"))


def sample_market(limit_price_floor: str):
    item = {"name": "BTC-USD", "assetName": "BTC", "collateralAssetName": "USD", "status": "ACTIVE", "active": True,
            "marketStats": {"lastPrice": "100005", "bidPrice": "100000", "askPrice": "100010", "markPrice": "100010",
                            "indexPrice": "100010", "fundingRate": "0.0001", "nextFundingRate": 1700000000000},
            "tradingConfig": {"minOrderSize": "0.0001", "minOrderSizeChange": "0.00001", "minPriceChange": "0.1",
                              "maxMarketOrderValue": "1000000", "maxLimitOrderValue": "5000000",
                              "maxPositionValue": "10000000", "maxLeverage": "50", "maxNumOrders": "200",
                              "limitPriceCap": "0.05", "limitPriceFloor": limit_price_floor},
            "l2Config": {"type": "STARKX", "syntheticId": "0x4254432d3600000000000000000000",
                         "syntheticResolution": 1000000, "collateralId": "0x1", "collateralResolution": 1000000}}
    return check_keys.SampleMarket(check_keys.markets.parse_market(item), check_keys.SigningMarket.from_api(item))


if __name__ == "__main__":
    unittest.main()
