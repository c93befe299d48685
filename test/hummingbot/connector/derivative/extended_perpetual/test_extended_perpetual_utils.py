import binascii
import json
import logging
import tempfile
import unittest
from decimal import Decimal
from pathlib import Path

import fast_stark_crypto
from pydantic import ValidationError

from hummingbot.client.config.config_crypt import ETHKeyFileSecretManger
from hummingbot.client.config.config_helpers import (
    ClientConfigAdapter,
    load_connector_config_map_from_file,
    save_to_yml,
)
from hummingbot.client.config.security import Security
from hummingbot.client.settings import AllConnectorSettings
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_utils as utils

PRIVATE_KEY = "0x7a7ff6fd3cab02ccdcd4a572563f5976f8976899b03a39773795a3c486d4986"
PUBLIC_KEY = hex(fast_stark_crypto.get_public_key(int(PRIVATE_KEY, 16)))
API_KEY = "a1b2c3d4e5f6a7b8c9d0secretapikey"
VAULT = "10002"


class ConnectorSettingsTests(unittest.TestCase):
    def test_hummingbot_scanner_lists_both_domains(self):
        settings = AllConnectorSettings.create_connector_settings()
        self.assertIn("extended_perpetual", settings)
        self.assertIn("extended_perpetual_testnet", settings)
        testnet = settings["extended_perpetual_testnet"]
        self.assertTrue(testnet.is_sub_domain)
        self.assertEqual("extended_perpetual", testnet.parent_name)
        self.assertEqual("BTC-USD", settings["extended_perpetual"].example_pair)
        self.assertEqual(Decimal("0.00025"), settings["extended_perpetual"].trade_fee_schema.taker_percent_fee_decimal)

    def test_config_keys_are_the_four_credentials_plus_two_unprompted_settings(self):
        keys = list(utils.KEYS.__class__.model_fields)
        self.assertEqual(
            ["connector", "extended_perpetual_api_key", "extended_perpetual_stark_private_key",
             "extended_perpetual_stark_public_key", "extended_perpetual_vault_id",
             "extended_perpetual_limit_order_expiry_days", "extended_perpetual_market_order_slippage"],
            keys)
        testnet_keys = list(utils.OTHER_DOMAINS_KEYS["extended_perpetual_testnet"].__class__.model_fields)
        self.assertEqual([k.replace("extended_perpetual", "extended_perpetual_testnet", 1) if k != "connector" else k
                          for k in keys], testnet_keys)

    def test_prompts_say_where_to_find_values_and_settings_are_not_prompted(self):
        adapter = ClientConfigAdapter(utils.ExtendedPerpetualConfigMap.model_construct())
        api_key_data = adapter.get_client_data("extended_perpetual_api_key")
        self.assertIn("API management", api_key_data.prompt)
        self.assertTrue(api_key_data.is_secure and api_key_data.is_connect_key and api_key_data.prompt_on_new)
        slippage_data = adapter.get_client_data("extended_perpetual_market_order_slippage")
        self.assertFalse(slippage_data.prompt_on_new)
        self.assertTrue(slippage_data.is_connect_key)


class ConfigValidationTests(unittest.TestCase):
    def setUp(self):
        self.adapter = ClientConfigAdapter(utils.ExtendedPerpetualConfigMap.model_construct())

    def assert_refused_without_secret(self, field_name: str, value: str):
        with self.assertRaises(Exception) as context:
            setattr(self.adapter, field_name, value)
        message = str(context.exception)
        self.assertIn(field_name, message)
        self.assertNotIn(value.strip(), message)
        return message

    def test_whitespace_is_stripped(self):
        self.adapter.extended_perpetual_api_key = f"  {API_KEY}\n"
        self.adapter.extended_perpetual_stark_private_key = f" {PRIVATE_KEY} "
        self.adapter.extended_perpetual_stark_public_key = f"{PUBLIC_KEY}\t"
        self.adapter.extended_perpetual_vault_id = " 10002 "
        self.assertEqual(API_KEY, self.adapter.extended_perpetual_api_key.get_secret_value())
        self.assertEqual(PRIVATE_KEY, self.adapter.extended_perpetual_stark_private_key.get_secret_value())
        self.assertEqual(PUBLIC_KEY, self.adapter.extended_perpetual_stark_public_key.get_secret_value())
        self.assertEqual("10002", self.adapter.extended_perpetual_vault_id.get_secret_value())

    def test_private_key_not_hex_is_refused(self):
        self.assert_refused_without_secret("extended_perpetual_stark_private_key", "0xnot-a-hex-secret-value")

    def test_private_key_above_curve_order_is_refused(self):
        too_big = hex(utils.STARK_CURVE_ORDER + 5)
        message = self.assert_refused_without_secret("extended_perpetual_stark_private_key", too_big)
        self.assertIn("curve order", message)

    def test_public_key_not_derived_from_private_key_is_refused(self):
        self.adapter.extended_perpetual_stark_private_key = PRIVATE_KEY
        wrong_public = hex(fast_stark_crypto.get_public_key(12345))
        message = self.assert_refused_without_secret("extended_perpetual_stark_public_key", wrong_public)
        self.assertNotIn(PRIVATE_KEY, message)

    def test_public_key_first_then_wrong_private_key_is_refused(self):
        self.adapter.extended_perpetual_stark_public_key = PUBLIC_KEY
        other_private = hex(987654321)
        message = self.assert_refused_without_secret("extended_perpetual_stark_private_key", other_private)
        self.assertIn("extended_perpetual_stark_public_key", message)

    def test_vault_outside_u32_is_refused(self):
        self.assert_refused_without_secret("extended_perpetual_vault_id", str(2**32))
        self.assert_refused_without_secret("extended_perpetual_vault_id", "-5")

    def test_api_key_with_inner_space_is_refused(self):
        self.assert_refused_without_secret("extended_perpetual_api_key", "abc def-secret")

    def test_expiry_days_bounded_by_network(self):
        self.adapter.extended_perpetual_limit_order_expiry_days = 89
        self.assertEqual(89, self.adapter.extended_perpetual_limit_order_expiry_days)
        with self.assertRaises(Exception):
            self.adapter.extended_perpetual_limit_order_expiry_days = 90
        testnet = ClientConfigAdapter(utils.ExtendedPerpetualTestnetConfigMap.model_construct())
        with self.assertRaises(Exception) as context:
            testnet.extended_perpetual_testnet_limit_order_expiry_days = 28
        self.assertIn("1 to 27", str(context.exception))

    def test_slippage_must_stay_inside_venue_bound(self):
        self.adapter.extended_perpetual_market_order_slippage = Decimal("0.01")
        self.assertEqual(Decimal("0.01"), self.adapter.extended_perpetual_market_order_slippage)
        for bad in ("0", "0.05", "abc"):
            with self.assertRaises(Exception):
                self.adapter.extended_perpetual_market_order_slippage = bad

    def test_full_model_validation_error_hides_inputs(self):
        with self.assertRaises(ValidationError) as context:
            utils.ExtendedPerpetualConfigMap(
                extended_perpetual_api_key=API_KEY,
                extended_perpetual_stark_private_key=PRIVATE_KEY,
                extended_perpetual_stark_public_key=hex(fast_stark_crypto.get_public_key(7)),
                extended_perpetual_vault_id=VAULT,
            )
        message = str(context.exception)
        self.assertIn("extended_perpetual_stark_public_key", message)
        for secret in (API_KEY, PRIVATE_KEY, PRIVATE_KEY[2:], VAULT):
            self.assertNotIn(secret, message)

    def test_valid_model_repr_hides_secrets(self):
        config = utils.ExtendedPerpetualConfigMap(
            extended_perpetual_api_key=API_KEY,
            extended_perpetual_stark_private_key=PRIVATE_KEY,
            extended_perpetual_stark_public_key=PUBLIC_KEY,
            extended_perpetual_vault_id=VAULT,
        )
        for text in (repr(config), str(config)):
            self.assertNotIn(API_KEY, text)
            self.assertNotIn(PRIVATE_KEY[2:], text)


class EncryptedConfigFileTests(unittest.TestCase):
    """``connect`` saves the secret fields encrypted; a restart validates the file before decrypting it."""

    def setUp(self):
        self.previous_manager = Security.secrets_manager
        Security.secrets_manager = ETHKeyFileSecretManger("a-password")
        self.addCleanup(setattr, Security, "secrets_manager", self.previous_manager)
        self.folder = Path(tempfile.mkdtemp())

    def connect(self, config_map_class, prefix: str) -> Path:
        adapter = ClientConfigAdapter(config_map_class.model_construct())
        for suffix, value in (("api_key", API_KEY), ("stark_private_key", PRIVATE_KEY),
                              ("stark_public_key", PUBLIC_KEY), ("vault_id", VAULT)):
            setattr(adapter, f"{prefix}_{suffix}", value)  # as the prompts do, validated
        path = self.folder / f"{prefix}.yml"
        save_to_yml(path, adapter)  # as Security.update_secure_config does
        return path

    def test_restart_loads_and_decrypts_the_saved_keys(self):
        for config_map_class, prefix in ((utils.ExtendedPerpetualConfigMap, "extended_perpetual"),
                                         (utils.ExtendedPerpetualTestnetConfigMap, "extended_perpetual_testnet")):
            path = self.connect(config_map_class, prefix)
            stored = path.read_text()
            for secret in (API_KEY, PRIVATE_KEY[2:], PUBLIC_KEY[2:]):
                self.assertNotIn(secret, stored)
            loaded = load_connector_config_map_from_file(path)  # as Security.decrypt_connector_config does
            self.assertEqual(API_KEY, getattr(loaded, f"{prefix}_api_key").get_secret_value())
            self.assertEqual(PRIVATE_KEY, getattr(loaded, f"{prefix}_stark_private_key").get_secret_value())
            self.assertEqual(PUBLIC_KEY, getattr(loaded, f"{prefix}_stark_public_key").get_secret_value())
            self.assertEqual(VAULT, getattr(loaded, f"{prefix}_vault_id").get_secret_value())

    def test_typed_values_that_are_not_a_key_file_are_still_checked(self):
        adapter = ClientConfigAdapter(utils.ExtendedPerpetualConfigMap.model_construct())
        json_hex = binascii.hexlify(json.dumps({"version": 3, "note": "x" * 40}).encode()).decode()
        with self.assertRaises(Exception) as context:
            adapter.extended_perpetual_stark_private_key = json_hex  # hex of JSON, but no key file
        self.assertIn("curve order", str(context.exception))
        self.assertFalse(utils.is_encrypted(PRIVATE_KEY))
        self.assertTrue(utils.is_encrypted(Security.secrets_manager.encrypt_secret_value("x", PRIVATE_KEY)))


class CredentialsTests(unittest.TestCase):
    def test_parse_returns_ints_and_repr_hides_secrets(self):
        credentials = utils.ExtendedCredentials.parse(f" {API_KEY} ", PRIVATE_KEY, PUBLIC_KEY, " 10002")
        self.assertEqual(int(PRIVATE_KEY, 16), credentials.stark_private_key)
        self.assertEqual(int(PUBLIC_KEY, 16), credentials.stark_public_key)
        self.assertEqual(10002, credentials.vault_id)
        self.assertEqual(API_KEY, credentials.api_key)
        text = repr(credentials)
        self.assertNotIn(API_KEY, text)
        self.assertNotIn(str(int(PRIVATE_KEY, 16)), text)
        self.assertNotIn(PRIVATE_KEY[2:], text)

    def test_errors_name_the_domain_field(self):
        with self.assertRaises(ValueError) as context:
            utils.ExtendedCredentials.parse(API_KEY, PRIVATE_KEY, PUBLIC_KEY, "x", prefix="extended_perpetual_testnet")
        self.assertIn("extended_perpetual_testnet_vault_id", str(context.exception))

    def test_no_log_line_carries_a_secret(self):
        with self.assertLogs(level=logging.DEBUG) as logs:
            logging.getLogger(__name__).debug("credentials %r", utils.ExtendedCredentials.parse(
                API_KEY, PRIVATE_KEY, PUBLIC_KEY, VAULT))
        joined = "\n".join(logs.output)
        self.assertNotIn(API_KEY, joined)
        self.assertNotIn(PRIVATE_KEY[2:], joined)
