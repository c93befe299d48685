"""The connector built exactly as Hummingbot's ``connect`` builds it, for mainnet and testnet.

Path: config map -> ``api_keys_from_connector_config_map`` (what ``Security.api_keys`` returns) ->
``AllConnectorSettings.get_connector_settings()[name].conn_init_parameters(...)`` -> ``get_connector_class(name)``.
"""
import logging
import unittest
from decimal import Decimal
from typing import Any, Dict, List

from hummingbot.client.config.config_helpers import (
    ClientConfigAdapter,
    api_keys_from_connector_config_map,
    get_connector_class,
)
from hummingbot.client.settings import AllConnectorSettings
from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_utils as utils,
    extended_perpetual_web_utils as web_utils,
)

API_KEY = "construction-api-key-0123456789abcdef"  # noqa: mock
STARK_PRIVATE_KEY = "0x3c1e9550e66958296d11b60f8e8e7a7ad990d07fa65d5f7652c4a6c87d4e3cc"  # noqa: mock
STARK_PUBLIC_KEY = "0x77a3b314db07c45076d11f62b6f9e748a39790441823307743cf00d6597ea43"  # noqa: mock
VAULT_ID = "10002"
CONFIG_MAPS = {
    CONSTANTS.DEFAULT_DOMAIN: utils.ExtendedPerpetualConfigMap,
    CONSTANTS.TESTNET_DOMAIN: utils.ExtendedPerpetualTestnetConfigMap,
}


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=1)
        self.records: List[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


class ConnectorConstructionTests(unittest.TestCase):
    def setUp(self) -> None:
        self.capture = _Capture()
        self.root_level = logging.getLogger().level
        logging.getLogger().addHandler(self.capture)
        logging.getLogger().setLevel(1)

    def tearDown(self) -> None:
        logging.getLogger().removeHandler(self.capture)
        logging.getLogger().setLevel(self.root_level)

    @staticmethod
    def api_keys(domain: str, **overrides: Any) -> Dict[str, Any]:
        values = {"api_key": API_KEY, "stark_private_key": STARK_PRIVATE_KEY, "stark_public_key": STARK_PUBLIC_KEY,
                  "vault_id": VAULT_ID}
        values.update(overrides)
        config = CONFIG_MAPS[domain](**{f"{domain}_{key}": value for key, value in values.items()})
        return api_keys_from_connector_config_map(ClientConfigAdapter(config))

    @staticmethod
    def build(domain: str, api_keys: Dict[str, Any], trading_required: bool = True):
        settings = AllConnectorSettings.get_connector_settings()[domain]
        params = settings.conn_init_parameters(
            trading_pairs=["BTC-USD"], trading_required=trading_required, api_keys=api_keys,
            balance_asset_limit={}, rate_limits_share_pct=Decimal("50"))
        return get_connector_class(domain)(**params)

    def assert_no_secret(self, text: str):
        for secret in (API_KEY, STARK_PRIVATE_KEY, STARK_PRIVATE_KEY[2:], str(int(STARK_PRIVATE_KEY, 16))):
            self.assertNotIn(secret, text)

    def test_builds_for_both_domains_with_their_network_settings(self):
        for domain, chain_id, default_days in ((CONSTANTS.DEFAULT_DOMAIN, "SN_MAIN", 89),
                                               (CONSTANTS.TESTNET_DOMAIN, "SN_SEPOLIA", 27)):
            with self.subTest(domain=domain):
                connector = self.build(domain, self.api_keys(domain))
                self.assertEqual(domain, connector.name)
                self.assertEqual(domain, connector.domain)
                self.assertEqual(chain_id, connector._signing_domain.chain_id)
                self.assertEqual(default_days, connector.limit_order_expiry_days)
                self.assertEqual(Decimal(CONSTANTS.DEFAULT_MARKET_ORDER_SLIPPAGE), connector._market_order_slippage)
                self.assertEqual(int(VAULT_ID), connector._stark_account.vault)
                self.assertEqual(["BTC-USD"], connector.trading_pairs)
                self.assertTrue(connector.is_trading_required)
                self.assertFalse(connector.is_cancel_request_in_exchange_synchronous)

    def test_non_prompted_settings_reach_the_connector(self):
        for domain in CONFIG_MAPS:
            with self.subTest(domain=domain):
                keys = self.api_keys(domain, limit_order_expiry_days="5", market_order_slippage="0.01")
                connector = self.build(domain, keys)
                self.assertEqual(5, connector.limit_order_expiry_days)
                self.assertEqual(Decimal("0.01"), connector._market_order_slippage)

    def test_no_secret_in_repr_log_or_url(self):
        for domain in CONFIG_MAPS:
            connector = self.build(domain, self.api_keys(domain))
            urls = [web_utils.private_rest_url(CONSTANTS.ORDER_PATH_URL, domain),
                    web_utils.wss_url(CONSTANTS.WS_ACCOUNT_PATH, domain)]
            text = " ".join([repr(connector), str(connector), repr(connector._auth), repr(connector._credentials),
                             repr(connector._stark_account), *urls,
                             *(record.getMessage() for record in self.capture.records)])
            self.assert_no_secret(text)
            self.assertEqual(API_KEY, connector._auth.ws_handshake_headers()[CONSTANTS.API_KEY_HEADER])

    def test_bad_config_raises_value_error_naming_the_field_never_the_value(self):
        bad_private = "0x" + "f" * 70
        cases = [
            ("stark_private_key", bad_private),
            ("stark_public_key", "0x1234"),  # a valid element that is not the private key's public key
            ("vault_id", "vault-number-seven"),
            ("api_key", "has a space inside"),
        ]
        for domain in CONFIG_MAPS:
            for suffix, value in cases:
                with self.subTest(domain=domain, field=suffix):
                    keys = self.api_keys(domain)
                    keys[f"{domain}_{suffix}"] = value  # as if the yml file had been edited by hand
                    with self.assertRaises(ValueError) as raised:
                        self.build(domain, keys)
                    message = str(raised.exception)
                    self.assertIn(f"{domain}_", message)
                    self.assertNotIn(value, message)
                    self.assert_no_secret(message)

    def test_bad_settings_raise_value_error_naming_the_field(self):
        for domain, too_many_days in ((CONSTANTS.DEFAULT_DOMAIN, "90"), (CONSTANTS.TESTNET_DOMAIN, "28")):
            keys = self.api_keys(domain)
            keys[f"{domain}_limit_order_expiry_days"] = too_many_days
            with self.assertRaisesRegex(ValueError, f"{domain}_limit_order_expiry_days"):
                self.build(domain, keys)
            keys = self.api_keys(domain)
            keys[f"{domain}_market_order_slippage"] = "0.2"
            with self.assertRaisesRegex(ValueError, f"{domain}_market_order_slippage"):
                self.build(domain, keys)

    def test_missing_credentials_refused_for_trading_but_accepted_for_market_data_only(self):
        with self.assertRaisesRegex(ValueError, "extended_perpetual_stark_private_key"):
            self.build(CONSTANTS.DEFAULT_DOMAIN, {})
        for domain in CONFIG_MAPS:
            connector = AllConnectorSettings.get_connector_settings()[domain] \
                .non_trading_connector_instance_with_default_configuration(["BTC-USD"])
            self.assertFalse(connector.is_trading_required)
            self.assertIsNone(connector._stark_account)
