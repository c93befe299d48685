"""The README's main command end to end: a V2 strategy trading through the connector against the emulator."""
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


class MainJobTests(unittest.TestCase):
    def test_strategy_trades_and_summary_matches_emulator_ledger(self):
        with tempfile.TemporaryDirectory() as scratch:
            log_file = Path(scratch, "main_job.log")
            env = {k: v for k, v in os.environ.items() if k != "EXTENDED_PERPETUAL_BASE_URL"}
            result = subprocess.run(
                [sys.executable, str(REPO_ROOT / "scripts" / "run_main_job.py"), "--seed", "11", "--timeout", "90",
                 "--log-file", str(log_file)],
                capture_output=True, text=True, timeout=150, cwd=REPO_ROOT, env=env)
            log_text = log_file.read_text()
        output = result.stdout
        self.assertEqual(0, result.returncode, output[-3000:] + result.stderr[-2000:])
        self.assertIn("matches the emulator's ledger: yes", output)
        summary = output[output.index("=== Extended main job"):].splitlines()[1:-1]
        self.assertGreaterEqual(len(summary), 11)
        self.assertTrue(all(line.startswith("ok ") for line in summary), summary)
        for kind in ("LIMIT buy (resting)", "LIMIT_MAKER sell (resting)", "MARKET buy (opens)",
                     "MARKET sell (reduce-only close)"):
            self.assertIn(kind, output)
        self.assertRegex(output, r"funding payments\s+connector: 1 / -?\d")
        self.assertRegex(output, r"position held, then closed\s+connector: 0\.0[1-9]\d* -> 0\.000000")
        self.assertIn("EXTENDED_PERPETUAL_BASE_URL is set", log_text)  # the override is logged at start
        self.assertNotIn("Traceback", log_text)
