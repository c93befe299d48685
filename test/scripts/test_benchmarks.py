"""The benchmarks run end to end on tiny inputs (their numbers are not checked here: these machines are noisy).

What is checked is what each benchmark verifies about itself while it times: the sign benchmark checks every
connector body's amounts and signature, the order-book benchmark that both paths built the same book. A
benchmark that stopped working (an API it uses changed) fails here instead of on the next person to run it.
"""
import os
import re
import subprocess
import sys
import unittest
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def run_script(name: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(SCRIPTS / name), *args], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONPATH=str(SCRIPTS.parent)))
    if done.returncode != 0:
        raise AssertionError(f"{name} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout + done.stderr


class BenchmarkSmokeTests(unittest.TestCase):
    def test_sign_benchmark_prints_its_ratio_after_checking_every_signature(self):
        output = run_script("bench_signer.py", "--iterations", "6", "--rounds", "1")
        self.assertRegex(output, r"connector full sign path / raw hash\+sign: \d+\.\d{3}x \(goal <= 1\.05x; "
                                 r"median of 6 per-order ratios\)")

    def test_order_book_benchmark_prints_its_ratio_after_comparing_the_books(self):
        output = run_script("bench_order_book.py", "--updates", "200", "--rounds", "2")
        ratio = re.search(r"ratio extended/binance: (\d+\.\d+)x", output)
        self.assertIsNotNone(ratio, output)
        self.assertIn("200 updates", output)
