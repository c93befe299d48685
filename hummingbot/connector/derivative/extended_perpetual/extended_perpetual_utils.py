"""Configuration of the Extended connector: the KEYS config maps (mainnet and testnet), default fees, and the
validation of credentials shared by the config maps and the derivative's constructor.

A bad value is refused with a message naming the field, never showing the value. Hummingbot stores the secret
fields encrypted (``conf/connectors/<name>.yml``) and validates the file before decrypting it: an encrypted value
is accepted as it is, and checked once decrypted (Hummingbot assigns the clear value, validated, at log-in).
"""
import binascii
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Optional

import fast_stark_crypto
from pydantic import ConfigDict, Field, SecretStr, ValidationInfo, create_model, field_validator, model_validator

from hummingbot.client.config.config_data_types import BaseConnectorConfigMap
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.core.data_type.trade_fee import TradeFeeSchema

CENTRALIZED = True
EXAMPLE_PAIR = "BTC-USD"

# Extended's published schedule: 0.000% maker, 0.025% taker. The live per-market rates come from GET /user/fees.
DEFAULT_FEES = TradeFeeSchema(
    maker_percent_fee_decimal=Decimal("0"),
    taker_percent_fee_decimal=Decimal("0.00025"),
    buy_percent_fee_deducted_from_returns=False,
)

STARK_FIELD_PRIME = 2**251 + 17 * 2**192 + 1
STARK_CURVE_ORDER = 0x800000000000010FFFFFFFFFFFFFFFFB781126DCAE7B2321E66A241ADC64D2F
MAX_VAULT_ID = 2**32 - 1
MAX_MARKET_ORDER_SLIPPAGE = Decimal(CONSTANTS.MARKET_ORDER_MAX_DEVIATION_FROM_MARK)

API_KEY_SUFFIX = "api_key"
PRIVATE_KEY_SUFFIX = "stark_private_key"
PUBLIC_KEY_SUFFIX = "stark_public_key"
VAULT_SUFFIX = "vault_id"
EXPIRY_DAYS_SUFFIX = "limit_order_expiry_days"
SLIPPAGE_SUFFIX = "market_order_slippage"
SECRET_SUFFIXES = (API_KEY_SUFFIX, PRIVATE_KEY_SUFFIX, PUBLIC_KEY_SUFFIX, VAULT_SUFFIX)
_ENCRYPTED_PREFIX = binascii.hexlify(b'{"').decode()


def _text(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return ""
    return str(value).strip()


def is_encrypted(value: Any) -> bool:
    """Whether a value is Hummingbot's encrypted form of a secret (the hex of a v3 key-file JSON)."""
    text = _text(value)
    if not text.startswith(_ENCRYPTED_PREFIX):
        return False
    try:
        return "crypto" in json.loads(binascii.unhexlify(text))
    except (ValueError, TypeError):
        return False


def parse_api_key(value: Any, field_name: str) -> str:
    text = _text(value)
    if not text or any(character.isspace() for character in text):
        raise ValueError(f"{field_name} must be a non-empty API key without spaces")
    return text


def _parse_hex(value: Any, field_name: str, what: str) -> int:
    text = _text(value)
    digits = text[2:] if text[:2].lower() == "0x" else text
    try:
        return int(digits, 16)
    except ValueError:
        raise ValueError(f"{field_name} must be a hexadecimal {what} (0x...)") from None


def parse_stark_private_key(value: Any, field_name: str) -> int:
    key = _parse_hex(value, field_name, "Stark private key")
    if not 0 < key < STARK_CURVE_ORDER:
        raise ValueError(f"{field_name} must be a Stark private key below the Stark curve order")
    return key


def parse_stark_public_key(value: Any, field_name: str) -> int:
    key = _parse_hex(value, field_name, "Stark public key")
    if not 0 < key < STARK_FIELD_PRIME:
        raise ValueError(f"{field_name} must be a Stark field element (below the Stark prime)")
    return key


def parse_vault_id(value: Any, field_name: str) -> int:
    text = _text(value)
    if not text.isdigit() or int(text) > MAX_VAULT_ID:
        raise ValueError(f"{field_name} must be a whole number between 0 and {MAX_VAULT_ID} (u32)")
    return int(text)


def check_key_pair(private_key: int, public_key: int, private_field_name: str, public_field_name: str) -> None:
    if fast_stark_crypto.get_public_key(private_key) != public_key:
        raise ValueError(f"{public_field_name} is not the public key derived from {private_field_name}")


def parse_expiry_days(value: Any, field_name: str, max_days: int) -> Optional[int]:
    text = _text(value)
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= max_days - 1:
        raise ValueError(f"{field_name} must be a whole number of days from 1 to {max_days - 1}")
    return int(text)


def parse_slippage(value: Any, field_name: str) -> Decimal:
    try:
        slippage = Decimal(_text(value))
    except InvalidOperation:
        raise ValueError(f"{field_name} must be a decimal fraction such as 0.0075") from None
    if not Decimal("0") < slippage < MAX_MARKET_ORDER_SLIPPAGE:
        raise ValueError(f"{field_name} must be above 0 and below {MAX_MARKET_ORDER_SLIPPAGE} (the venue's bound)")
    return slippage


@dataclass(frozen=True)
class ExtendedCredentials:
    """Validated credentials of one Extended sub-account. Secrets are kept out of ``repr``."""

    api_key: str = field(repr=False)
    stark_private_key: int = field(repr=False)
    stark_public_key: int
    vault_id: int

    @classmethod
    def parse(cls, api_key: Any, stark_private_key: Any, stark_public_key: Any, vault_id: Any,
              prefix: str = CONSTANTS.DEFAULT_DOMAIN) -> "ExtendedCredentials":
        private_key = parse_stark_private_key(stark_private_key, f"{prefix}_{PRIVATE_KEY_SUFFIX}")
        public_key = parse_stark_public_key(stark_public_key, f"{prefix}_{PUBLIC_KEY_SUFFIX}")
        check_key_pair(private_key, public_key, f"{prefix}_{PRIVATE_KEY_SUFFIX}", f"{prefix}_{PUBLIC_KEY_SUFFIX}")
        return cls(
            api_key=parse_api_key(api_key, f"{prefix}_{API_KEY_SUFFIX}"),
            stark_private_key=private_key,
            stark_public_key=public_key,
            vault_id=parse_vault_id(vault_id, f"{prefix}_{VAULT_SUFFIX}"),
        )


class ExtendedPerpetualConfigMapBase(BaseConnectorConfigMap):
    """Validators shared by the mainnet and testnet config maps (fields are named per domain)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    @field_validator("*", mode="before")
    @classmethod
    def _validate_field(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        if name.endswith(SECRET_SUFFIXES) and is_encrypted(value):
            return _text(value)
        if name.endswith(API_KEY_SUFFIX):
            return parse_api_key(value, name)
        if name.endswith(PRIVATE_KEY_SUFFIX):
            parse_stark_private_key(value, name)
            return _text(value)
        if name.endswith(PUBLIC_KEY_SUFFIX):
            parse_stark_public_key(value, name)
            return _text(value)
        if name.endswith(VAULT_SUFFIX):
            return str(parse_vault_id(value, name))
        if name.endswith(EXPIRY_DAYS_SUFFIX):
            return parse_expiry_days(value, name, CONSTANTS.MAX_ORDER_EXPIRY_DAYS[_domain_of(name)])
        if name.endswith(SLIPPAGE_SUFFIX):
            return parse_slippage(value, name)
        return value

    @model_validator(mode="after")
    def _validate_key_pair(self):
        values = self.__dict__
        private_name = next((n for n in values if n.endswith(PRIVATE_KEY_SUFFIX)), None)
        public_name = next((n for n in values if n.endswith(PUBLIC_KEY_SUFFIX)), None)
        private_value, public_value = values.get(private_name), values.get(public_name)
        pair = (private_value, public_value)
        if all(map(_text, pair)) and not any(map(is_encrypted, pair)):  # encrypted: checked once decrypted
            check_key_pair(parse_stark_private_key(private_value, private_name),
                           parse_stark_public_key(public_value, public_name), private_name, public_name)
        return self


def _domain_of(field_name: str) -> str:
    return CONSTANTS.TESTNET_DOMAIN if field_name.startswith(CONSTANTS.TESTNET_DOMAIN) else CONSTANTS.DEFAULT_DOMAIN


def _secret_field(prompt: str) -> Any:
    return (SecretStr, Field(default=..., json_schema_extra={
        "prompt": prompt, "is_secure": True, "is_connect_key": True, "prompt_on_new": True}))


def _setting_field(annotation: Any, default: Any, description: str) -> Any:
    return (annotation, Field(default=default, description=description, json_schema_extra={
        "prompt": description, "is_connect_key": True, "prompt_on_new": False}))


def _config_map_class(domain: str, network: str) -> type:
    """Build the config map of one domain; its field names are the derivative's constructor arguments."""
    where = f"Extended {network} (Account -> API management, per sub-account)"
    max_days = CONSTANTS.MAX_ORDER_EXPIRY_DAYS[domain]
    fields: Dict[str, Any] = {
        "connector": (str, domain),
        f"{domain}_{API_KEY_SUFFIX}": _secret_field(f"Enter your {where} API key"),
        f"{domain}_{PRIVATE_KEY_SUFFIX}": _secret_field(f"Enter your {where} Stark private key (0x...)"),
        f"{domain}_{PUBLIC_KEY_SUFFIX}": _secret_field(f"Enter your {where} Stark public key (0x...)"),
        f"{domain}_{VAULT_SUFFIX}": _secret_field(f"Enter your {where} vault number"),
        f"{domain}_{EXPIRY_DAYS_SUFFIX}": _setting_field(
            Optional[int], None, f"Days a resting limit order lives (1-{max_days - 1}; default {max_days - 1})"),
        f"{domain}_{SLIPPAGE_SUFFIX}": _setting_field(
            Decimal, Decimal(CONSTANTS.DEFAULT_MARKET_ORDER_SLIPPAGE),
            "Market order price bound beyond the best price, as a fraction (default 0.0075)"),
    }
    base = type(f"_{domain}_base", (ExtendedPerpetualConfigMapBase,),
                {"model_config": ConfigDict(title=domain, hide_input_in_errors=True)})
    class_name = "".join(part.capitalize() for part in domain.split("_")) + "ConfigMap"
    return create_model(class_name, __base__=base, **fields)


ExtendedPerpetualConfigMap = _config_map_class(CONSTANTS.DEFAULT_DOMAIN, "mainnet")
ExtendedPerpetualTestnetConfigMap = _config_map_class(CONSTANTS.TESTNET_DOMAIN, "testnet")

KEYS = ExtendedPerpetualConfigMap.model_construct()

OTHER_DOMAINS = [CONSTANTS.TESTNET_DOMAIN]
OTHER_DOMAINS_PARAMETER = {CONSTANTS.TESTNET_DOMAIN: CONSTANTS.TESTNET_DOMAIN}
OTHER_DOMAINS_EXAMPLE_PAIR = {CONSTANTS.TESTNET_DOMAIN: EXAMPLE_PAIR}
OTHER_DOMAINS_DEFAULT_FEES = {CONSTANTS.TESTNET_DOMAIN: DEFAULT_FEES}
OTHER_DOMAINS_KEYS = {CONSTANTS.TESTNET_DOMAIN: ExtendedPerpetualTestnetConfigMap.model_construct()}
