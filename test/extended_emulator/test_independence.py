"""The emulator is a second reading of the doc: it must not import hummingbot or the connector."""
import ast
import tempfile
import unittest
from pathlib import Path

import extended_emulator

PACKAGE_DIR = Path(extended_emulator.__file__).parent
ALLOWED_THIRD_PARTY = {"aiohttp", "fast_stark_crypto"}


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


class IndependenceTest(unittest.TestCase):
    def test_package_has_modules(self):
        names = {p.name for p in PACKAGE_DIR.glob("*.py")}
        self.assertTrue({"app.py", "signing.py", "matching.py", "streams.py", "__main__.py"} <= names)

    def test_no_hummingbot_or_connector_imports(self):
        offenders = []
        for path in PACKAGE_DIR.rglob("*.py"):
            for module in imported_modules(path):
                if module.split(".")[0] == "hummingbot" or "extended_perpetual" in module:
                    offenders.append(f"{path.name}: {module}")
        self.assertEqual([], offenders)

    def test_only_stdlib_and_allowed_third_party(self):
        import sys
        stdlib = set(sys.stdlib_module_names)
        unexpected = set()
        for path in PACKAGE_DIR.rglob("*.py"):
            for module in imported_modules(path):
                top = module.split(".")[0]
                if top not in stdlib and top not in ALLOWED_THIRD_PARTY:
                    unexpected.add(top)
        self.assertEqual(set(), unexpected)

    def test_detector_catches_a_forbidden_import(self):
        with tempfile.TemporaryDirectory() as folder:
            sample = Path(folder) / "sample.py"
            sample.write_text("import os\nfrom hummingbot.connector.derivative.extended_perpetual import x\n")
            self.assertEqual(["os", "hummingbot.connector.derivative.extended_perpetual"],
                             list(imported_modules(sample)))
