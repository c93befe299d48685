"""The README's steps for running ``scripts/extended_demo.py`` in the Hummingbot CLI, through Hummingbot's own code:
``create --v2-config extended_demo`` (the config class the CLI picks, prompted values, the file it writes), then
``start --v2 conf_extended_demo_1.yml`` (the strategy and the config TradingCore loads from that file)."""
import importlib
import inspect
import tempfile
from pathlib import Path
from types import SimpleNamespace

import yaml

from hummingbot.client.command.create_command import CreateCommand
from hummingbot.client.config.config_data_types import BaseClientModel
from hummingbot.client.config.config_helpers import ClientConfigAdapter, default_strategy_file_path
from hummingbot.client.settings import SCRIPT_STRATEGIES_MODULE
from hummingbot.core.trading_core import TradingCore
from hummingbot.strategy.strategy_v2_base import StrategyV2ConfigBase
from test.isolated_asyncio_wrapper_test_case import IsolatedAsyncioWrapperTestCase

REPO_ROOT = Path(__file__).resolve().parents[2]
README = (REPO_ROOT / "README.md").read_text()
CONFIG_FILE = "conf_extended_demo_1.yml"


class V2ConfigStepsTests(IsolatedAsyncioWrapperTestCase):
    def test_the_readme_names_the_cli_steps(self):
        for step in ("create --v2-config extended_demo", f"start --v2 {CONFIG_FILE}"):
            self.assertTrue(step in README, step)
        for text in (README, (REPO_ROOT / "scripts" / "extended_demo.py").read_text()):
            self.assertFalse("start --script" in text)  # not a command of this Hummingbot

    async def test_create_then_start_loads_the_demo_with_the_prompted_values(self):
        self.assertEqual("scripts", SCRIPT_STRATEGIES_MODULE)  # the repo's scripts package is what Hummingbot loads
        module = importlib.import_module(f"{SCRIPT_STRATEGIES_MODULE}.extended_demo")  # scripts load at start-up
        config_class = next(member for _, member in inspect.getmembers(module)  # CreateCommand's choice
                            if inspect.isclass(member) and member not in [BaseClientModel, StrategyV2ConfigBase]
                            and (issubclass(member, BaseClientModel) or issubclass(member, StrategyV2ConfigBase)))
        config_map = ClientConfigAdapter(config_class.model_construct())
        config_map.trading_pair = "ETH-USD"  # what a user types at the prompt
        config_map.connector_name = "extended_perpetual_testnet"
        with tempfile.TemporaryDirectory() as folder:
            cli = SimpleNamespace(app=SimpleNamespace(to_stop_config=False))

            async def file_name(name, is_script):
                return default_strategy_file_path(name)  # the name the prompt proposes, kept with Enter
            cli.prompt_new_file_name = file_name
            written = await CreateCommand.save_config(cli, "extended_demo", config_map, Path(folder))
            self.assertEqual(CONFIG_FILE, written)
            path = Path(folder, written)
            self.assertEqual("extended_demo.py", yaml.safe_load(path.read_text())["script_file_name"])
            core = TradingCore({}, scripts_path=REPO_ROOT / "scripts")
            core._config_source = str(path)  # what start_strategy(name, "<file>.yml") sets before loading
            strategy_class, config = core.load_v2_class("extended_demo")
        self.assertEqual("ExtendedDemo", strategy_class.__name__)
        self.assertEqual(("ETH-USD", "extended_perpetual_testnet"), (config.trading_pair, config.connector_name))
        self.assertEqual({"extended_perpetual_testnet": {"ETH-USD"}}, dict(strategy_class.markets))
