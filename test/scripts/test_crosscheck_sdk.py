"""The SDK cross-check script without the SDK (CI has none): its random orders are valid and well spread, our two
paths sign them alike and the signatures verify, and a missing SDK venv is said, not passed over."""
import importlib.util
import random
import sys
import unittest
from pathlib import Path
from unittest import mock

SCRIPT_PATH = Path(__file__).resolve().parents[2] / "scripts" / "crosscheck_sdk.py"
_spec = importlib.util.spec_from_file_location("crosscheck_sdk", SCRIPT_PATH)
crosscheck_sdk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(crosscheck_sdk)


class CrossCheckScriptTests(unittest.TestCase):
    def test_random_orders_of_every_kind_are_signed_alike_by_both_paths_and_verify(self):
        rng = random.Random(5)
        chains, sides, types, legs = set(), set(), set(), set()
        for k in range(80):
            if k % 10 == 0:
                market = crosscheck_sdk.random_market(rng, k)
            case = crosscheck_sdk.random_case(rng, k, market)
            bodies = crosscheck_sdk.our_bodies(case)
            self.assertEqual(2 if case["trigger"] is case["legs"] is None else 1, len(bodies))
            self.assertEqual(1, len({repr(body) for _, body in bodies}))  # both paths alike
            self.assertTrue(all(crosscheck_sdk.verifies(case, body) for _, body in bodies))
            chains.add(case["chain_id"]), sides.add(case["side"]), types.add(case["type"])
            legs.update(bodies[0][1].keys() & {"takeProfit", "stopLoss"})
        expected = ({"SN_MAIN", "SN_SEPOLIA"}, {"BUY", "SELL"}, {"LIMIT", "MARKET", "CONDITIONAL"},
                    {"takeProfit", "stopLoss"})
        self.assertEqual(expected, (chains, sides, types, legs))

    def test_a_tampered_body_does_not_verify(self):
        rng = random.Random(6)
        case = crosscheck_sdk.random_case(rng, 0, crosscheck_sdk.random_market(rng, 0))
        [_, (_, body)] = crosscheck_sdk.our_bodies(dict(case, trigger=None, legs=None))
        body["nonce"] = str(int(body["nonce"]) % 2 ** 31 + 1)
        self.assertFalse(crosscheck_sdk.verifies(case, body))

    def test_without_the_sdk_venv_it_exits_2_and_says_why(self):
        with mock.patch.object(crosscheck_sdk, "SDK_PYTHON", Path("/nonexistent/python")), \
                mock.patch.object(sys, "argv", ["crosscheck_sdk.py"]), \
                mock.patch("builtins.print") as printed:
            self.assertEqual(crosscheck_sdk.main(), 2)
        self.assertIn("is missing", printed.call_args[0][0])
