"""The plugin installs where Hummingbot looks for connectors, and leaves Hummingbot's own packages alone."""
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONNECTOR = Path("hummingbot", "connector", "derivative", "extended_perpetual")


class PackagingTests(unittest.TestCase):
    def test_repo_ships_no_init_for_hummingbot_owned_packages(self):
        for folder in (Path("hummingbot"), Path("hummingbot", "connector"),
                       Path("hummingbot", "connector", "derivative")):
            self.assertFalse((REPO_ROOT / folder / "__init__.py").exists(), folder)
        self.assertTrue((REPO_ROOT / CONNECTOR / "__init__.py").exists())

    def test_pip_install_places_connector_inside_hummingbot_tree(self):
        with tempfile.TemporaryDirectory() as scratch:
            source, target = Path(scratch, "src"), Path(scratch, "site")
            source.mkdir()
            for name in ("setup.py", "README.md"):
                shutil.copy(REPO_ROOT / name, source / name)
            for package in ("hummingbot", "extended_emulator"):
                shutil.copytree(REPO_ROOT / package, source / package,
                                ignore=shutil.ignore_patterns("__pycache__"))
            result = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                 "--target", str(target), str(source)],
                capture_output=True, text=True, timeout=180)
            self.assertEqual(0, result.returncode, result.stderr[-2000:])
            installed = target / CONNECTOR
            for module in ("extended_perpetual_utils.py", "extended_perpetual_derivative.py",
                           "extended_perpetual_signer.py", "__init__.py"):
                self.assertTrue((installed / module).is_file(), module)
            self.assertFalse((target / "hummingbot" / "__init__.py").exists())
            self.assertFalse((target / "hummingbot" / "connector" / "__init__.py").exists())
            self.assertTrue((target / "extended_emulator" / "__init__.py").is_file())
