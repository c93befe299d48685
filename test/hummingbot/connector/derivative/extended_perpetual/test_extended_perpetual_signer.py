import calendar
import decimal
import json
import random
import re
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fast_stark_crypto import get_order_msg_hash, get_public_key, sign, verify

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_signer as signer
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_signer import (
    SIGNING_DOMAINS,
    SN_MAIN,
    SN_SEPOLIA,
    ConditionalTrigger,
    OrderSigner,
    SettlementAmounts,
    SigningMarket,
    StarkAccount,
    TpSlLeg,
    build_order_body,
    check_external_id,
    draw_nonce,
    order_message_hash,
    settlement_amounts,
    settlement_expiration_seconds,
    signing_domain_for,
)

REPO_ROOT = Path(__file__).resolve().parents[5]
VECTORS_PATH = REPO_ROOT / ".." / "shared" / "vectors" / "sdk_vectors.json"
VECTORS = json.loads(VECTORS_PATH.read_text())
ACCOUNT_JSON = VECTORS["account"]
MARKET_JSON = VECTORS["markets"]["BTC-USD"]
DOMAINS = {"SN_MAIN": SN_MAIN, "SN_SEPOLIA": SN_SEPOLIA}
PRIVATE_KEY_HEX = ACCOUNT_JSON["private_key"]
NOW_MS = 1_704_416_936_860  # 2024-01-05T01:08:56.860Z
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def _epoch_ms(iso: str, ceil: bool) -> int:
    moment = datetime.fromisoformat(iso)
    whole_ms, rest_us = divmod(moment.microsecond, 1000)
    ms = calendar.timegm(moment.utctimetuple()) * 1000 + whole_ms
    return ms + 1 if ceil and rest_us else ms


def _leg(raw):
    if raw is None:
        return None
    return TpSlLeg(Decimal(raw["trigger_price"]), raw["trigger_price_type"], Decimal(raw["price"]), raw["price_type"])


def _trigger(raw):
    if raw is None:
        return None
    return ConditionalTrigger(Decimal(raw["trigger_price"]), raw["trigger_price_type"], raw["direction"],
                              raw["execution_price_type"])


def _vector_kwargs(inputs, external_id=None):
    return dict(
        external_id=external_id, side=inputs["side"], order_type=inputs["type"], qty=Decimal(inputs["qty"]),
        price=Decimal(inputs["price"]), fee_rate=Decimal(inputs["fee_rate"]),
        expiry_ms=_epoch_ms(inputs["expire_time_utc"], ceil=True), nonce=inputs["nonce"],
        now_ms=_epoch_ms(inputs["now_utc"], ceil=False), time_in_force=inputs["time_in_force"],
        post_only=inputs["post_only"], reduce_only=inputs["reduce_only"],
        self_trade_protection=inputs["self_trade_protection_level"], trigger=_trigger(inputs.get("trigger")),
        tp_sl_type=inputs.get("tp_sl_type"), take_profit=_leg(inputs.get("take_profit")),
        stop_loss=_leg(inputs.get("stop_loss")))


@pytest.fixture(scope="module")
def account():
    return StarkAccount.from_config(ACCOUNT_JSON["private_key"], ACCOUNT_JSON["public_key"], ACCOUNT_JSON["vault"])


@pytest.fixture(scope="module")
def market():
    return SigningMarket.from_api(MARKET_JSON)


@pytest.fixture(scope="module")
def vector_market(market):
    """The vectors' BTC-USD with a finer tick: the SDK tests sign 43445.1168, off the 0.1 tick.

    The tick is not part of the signature; test_vector_price_is_off_the_real_tick shows the real
    market refuses that price.
    """
    return replace(market, min_price_change=Decimal("0.0001"))


def _limit_kwargs(**overrides):
    kwargs = dict(external_id="HBOT-B-BTCUSD-1", side="BUY", order_type="LIMIT", qty=Decimal("0.001"),
                  price=Decimal("43445.1"), fee_rate=Decimal("0.0005"), expiry_ms=NOW_MS + HOUR_MS,
                  nonce=1473459052, now_ms=NOW_MS)
    kwargs.update(overrides)
    return kwargs


ORDER_VECTORS = [pytest.param(v, id=v["name"]) for v in VECTORS["order_vectors"]]


# ---------------------------------------------------------------- golden vectors

def test_vector_file_covers_limit_and_market_orders():
    types = {v["inputs"]["type"] for v in VECTORS["order_vectors"]}
    assert {"LIMIT", "MARKET"} <= types


@pytest.mark.parametrize("vector", ORDER_VECTORS)
def test_order_vector_body_is_reproduced_exactly(vector, account, vector_market):
    inputs, expected = vector["inputs"], vector["expected"]
    body = build_order_body(account, DOMAINS[inputs["domain"]], vector_market, **_vector_kwargs(inputs))
    assert body == expected["body"]
    assert list(body) == list(expected["body"])
    assert body["debuggingAmounts"] == expected["debuggingAmounts"]


@pytest.mark.parametrize("vector", ORDER_VECTORS)
def test_order_vector_hash_signature_and_expiration(vector, account, vector_market):
    inputs, expected = vector["inputs"], vector["expected"]
    kwargs = _vector_kwargs(inputs)
    expiration = settlement_expiration_seconds(kwargs["expiry_ms"])
    assert expiration == inputs["settlement_expiration_seconds"]
    qty = Decimal(inputs["qty"])
    amounts = settlement_amounts(vector_market, inputs["side"], qty, Decimal(inputs["price"]),
                                 Decimal(inputs["fee_rate"]))
    assert amounts.debugging_amounts() == expected["debuggingAmounts"]
    msg_hash = order_message_hash(DOMAINS[inputs["domain"]], vector_market, amounts, expiration, inputs["nonce"],
                                  account.vault, account.public_key)
    assert msg_hash == int(expected["msg_hash"])
    if expected["signature"] is not None:
        r, s = sign(account.private_key, msg_hash)
        assert (hex(r), hex(s)) == (expected["signature"]["r"], expected["signature"]["s"])


@pytest.mark.parametrize("vector", ORDER_VECTORS)
def test_order_vector_with_external_id_keeps_the_signature(vector, account, vector_market):
    inputs, expected = vector["inputs"], vector["expected"]
    body = build_order_body(account, DOMAINS[inputs["domain"]], vector_market,
                            **_vector_kwargs(inputs, external_id="HBOT-S-BTCUSD-17044169"))
    assert body["id"] == "HBOT-S-BTCUSD-17044169"
    assert {**body, "id": expected["body"]["id"]} == expected["body"]


PLAIN_ORDER_VECTORS = [pytest.param(v, id=v["name"]) for v in VECTORS["order_vectors"]
                       if v["inputs"]["type"] in ("LIMIT", "MARKET") and not v["inputs"].get("tp_sl_type")]


def _order_signer_args(kwargs):
    return [kwargs[key] for key in ("external_id", "side", "order_type", "qty", "price", "fee_rate", "expiry_ms",
                                    "nonce", "now_ms", "time_in_force", "post_only", "reduce_only",
                                    "self_trade_protection")]


@pytest.mark.parametrize("vector", PLAIN_ORDER_VECTORS)
def test_order_signer_reproduces_the_plain_vectors(vector, account, vector_market):
    """The connector's per-market signer (integer fast path) gives the SDK's body, field for field."""
    inputs, expected = vector["inputs"], vector["expected"]
    kwargs = _vector_kwargs(inputs, external_id="HBOT-S-BTCUSD-17044169")
    body = OrderSigner(account, DOMAINS[inputs["domain"]], vector_market).order_body(*_order_signer_args(kwargs))
    assert {**body, "id": expected["body"]["id"]} == expected["body"]
    assert list(body) == list(expected["body"])


def _random_market(rng):
    step = rng.choice(["0.00001", "0.001", "0.1", "1", "10", "0.0025", "0.5"])
    max_values = [None if rng.random() < 0.3 else Decimal(rng.choice(["1000", "50000000", "12345.675"]))
                  for _ in range(2)]
    return SigningMarket(
        "R-USD", 0x52, 0x31, Decimal(rng.choice(["1000000", "10000000000", "1000", "10", "1"])),
        Decimal(rng.choice(["1000000", "100", "1"])), Decimal(step) * rng.choice([1, 2, 10]), Decimal(step),
        Decimal(rng.choice(["0.1", "0.01", "1", "0.000001", "0.05", "25"])), None, *max_values)


def _random_number(rng, grid):
    """On the grid mostly; sometimes off it, written with trailing zeros, zero, negative or not finite."""
    value = grid * rng.randint(1, 10 ** rng.randint(1, 7))
    roll = rng.random()
    if roll < 0.1:
        return value + grid / 3
    if roll < 0.2:
        return Decimal(format(value, "f") + ("" if "." in format(value, "f") else ".") + "000")
    if roll < 0.23:
        return rng.choice([Decimal(0), -value, Decimal("NaN"), Decimal("Infinity"), value.scaleb(-30)])
    return value


def test_order_signer_takes_a_market_with_a_grid_finer_than_its_fast_path(account, market):
    """A size step and tick with 70 decimal places between them: the signer is built, and orders priced with more
    places than its integer path holds go through the reference and come out the same."""
    fine = replace(market, min_order_size_change=Decimal("1E-40"), min_order_size=Decimal("1E-40"),
                   min_price_change=Decimal("1E-30"))
    order_signer = OrderSigner(account, SN_MAIN, fine)
    for qty, price in (("0.1", "43445.1"), ("0." + "0" * 38 + "17", "43445." + "0" * 28 + "13")):
        kwargs = _limit_kwargs(order_type="LIMIT", qty=Decimal(qty), price=Decimal(price), time_in_force="GTT",
                               post_only=False, reduce_only=False, self_trade_protection="ACCOUNT")
        body = order_signer.order_body(*_order_signer_args(kwargs))
        assert body == build_order_body(account, SN_MAIN, fine, **kwargs)
        assert (body["qty"], body["price"]) == (qty, price)


def test_order_signer_equals_build_order_body_on_random_orders(account):
    """Integer amounts and checks (the connector's path) against the Decimal reference, valid or not."""
    rng = random.Random(20261122)
    fee_rates = [Decimal(rate) for rate in ("0", "0.0005", "0.00025", "0.0002", "0.001", "0.1", "-0.0001")]
    for k in range(3000):
        if k % 5 == 0:  # one signer for several orders, as the connector keeps one per market
            market = _random_market(rng)
            order_signer = OrderSigner(account, SN_MAIN, market)
        kwargs = _limit_kwargs(
            side=rng.choice(["BUY", "SELL"]), order_type=rng.choice(["LIMIT", "MARKET"]),
            qty=_random_number(rng, market.min_order_size_change), price=_random_number(rng, market.min_price_change),
            fee_rate=rng.choice(fee_rates),  # the same objects again and again, as the connector passes them
            time_in_force="GTT", post_only=rng.random() < 0.2, reduce_only=rng.random() < 0.2,
            self_trade_protection="ACCOUNT")
        try:
            expected = build_order_body(account, SN_MAIN, market, **kwargs)
        except ValueError as e:
            with pytest.raises(ValueError, match=re.escape(str(e))):
                order_signer.order_body(*_order_signer_args(kwargs))
            continue
        assert order_signer.order_body(*_order_signer_args(kwargs)) == expected, kwargs


def test_vector_price_is_off_the_real_tick(account, market):
    inputs = VECTORS["order_vectors"][0]["inputs"]
    with pytest.raises(ValueError, match="price 43445.11680000 is not a multiple of 0.1"):
        build_order_body(account, SN_SEPOLIA, market, **_vector_kwargs(inputs))


def _verify_body_from_l2_config(body, market_json, domain):
    """An independent reader: recompute the hash from the POST body plus l2Config, then verify."""
    l2 = market_json["l2Config"]
    qty, price, fee = Decimal(body["qty"]), Decimal(body["price"]), Decimal(body["fee"])
    syn_res, col_res = Decimal(l2["syntheticResolution"]), Decimal(l2["collateralResolution"])
    up = body["side"] == "BUY"
    rounding = "ROUND_UP" if up else "ROUND_DOWN"
    synthetic = int((qty * syn_res).to_integral_value(rounding))
    collateral = int((qty * price * col_res).to_integral_value(rounding))
    fee_amount = int((fee * qty * price * col_res).to_integral_value("ROUND_UP"))
    synthetic, collateral = (synthetic, -collateral) if up else (-synthetic, collateral)
    expiration = -(-(body["expiryEpochMillis"] + 14 * DAY_MS) // 1000)
    settlement = body["settlement"]
    msg_hash = get_order_msg_hash(
        int(settlement["collateralPosition"]), int(l2["syntheticId"], 16), synthetic, int(l2["collateralId"], 16),
        collateral, int(l2["collateralId"], 16), fee_amount, expiration, int(body["nonce"]),
        int(settlement["starkKey"], 16), "Perpetuals", "v0", domain, "1")
    return verify(int(settlement["starkKey"], 16), msg_hash, int(settlement["signature"]["r"], 16),
                  int(settlement["signature"]["s"], 16))


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_body_alone_with_l2_config_verifies(side, account, market):
    body = build_order_body(account, SN_MAIN, market,
                            **_limit_kwargs(side=side, qty=Decimal("0.12345"), price=Decimal("97001.3")))
    assert _verify_body_from_l2_config(body, MARKET_JSON, "SN_MAIN")
    assert not _verify_body_from_l2_config(body, MARKET_JSON, "SN_SEPOLIA")


# Transfer / withdrawal hashes in the same file are not order signing: only the order ones apply here.
ORDER_RAW_HASHES = [pytest.param(v, id=v["name"]) for v in VECTORS["raw_hash_vectors"]
                    if v["fn"] == "get_order_msg_hash"]


@pytest.mark.parametrize("vector", ORDER_RAW_HASHES)
def test_raw_order_hash_vector(vector):
    raw = vector["inputs"]
    assert raw["base_asset_id"] != raw["quote_asset_id"] and raw["fee_asset_id"] == raw["quote_asset_id"]
    domain = signer.SigningDomain(raw["domain_name"], raw["domain_version"], raw["domain_chain_id"],
                                  raw["domain_revision"], 28 * DAY_MS)
    market = SigningMarket("X-USD", raw["base_asset_id"], raw["quote_asset_id"], Decimal(1), Decimal(1),
                           Decimal(0), Decimal(1), Decimal(1))
    amounts = SettlementAmounts(raw["base_amount"], raw["quote_amount"], raw["fee_amount"])
    msg_hash = order_message_hash(domain, market, amounts, raw["expiration"], raw["salt"], raw["position_id"],
                                  int(raw["user_public_key"], 16))
    assert msg_hash == int(vector["expected_hash"], 16)


def test_order_raw_hash_vectors_are_present():
    assert len(ORDER_RAW_HASHES) >= 2


@pytest.mark.parametrize("vector", [pytest.param(v, id=v["name"]) for v in VECTORS["key_derivation_vectors"]])
def test_key_derivation_vector_l2_key_pair_is_accepted(vector):
    expected = vector["expected"]
    stark = StarkAccount.from_config(expected["l2_private_key"], expected["l2_public_key"], 1)
    assert stark.public_key_hex == expected["l2_public_key"]
    with pytest.raises(ValueError, match="does not match"):
        StarkAccount.from_config(expected["l2_private_key"], ACCOUNT_JSON["public_key"], 1)


def test_vector_domains_match_module_domains():
    for chain, raw in VECTORS["domains"].items():
        domain = DOMAINS[chain]
        assert (domain.name, domain.version, domain.chain_id, domain.revision) == (
            raw["name"], raw["version"], raw["chain_id"], raw["revision"])


# ---------------------------------------------------------------- arithmetic

def _market(syn_res="1000000", col_res="1000000"):
    return SigningMarket("T-USD", 2, 1, Decimal(syn_res), Decimal(col_res), Decimal("0.001"), Decimal("0.001"),
                         Decimal("0.01"))


def test_settlement_amounts_buy_rounds_up_and_gives_collateral():
    amounts = settlement_amounts(_market(syn_res="10"), "BUY", Decimal("0.15"), Decimal("43445.1168"),
                                 Decimal("0.0005"))
    # synthetic 1.5 -> 2 (up); collateral 6516.76752 * 1e6 exact; fee 3.25838376 * 1e6 -> up
    assert amounts == SettlementAmounts(synthetic=2, collateral=-6516767520, fee=3258384)


def test_settlement_amounts_sell_rounds_down_and_gives_synthetic():
    amounts = settlement_amounts(_market(syn_res="10", col_res="100"), "SELL", Decimal("0.15"),
                                 Decimal("43445.1168"), Decimal("0.0005"))
    assert amounts == SettlementAmounts(synthetic=-1, collateral=651676, fee=326)


def test_fee_rounds_up_on_both_sides():
    for side in ("BUY", "SELL"):
        amounts = settlement_amounts(_market(), side, Decimal("0.001"), Decimal("43445.1168"), Decimal("0.0005"))
        assert amounts.fee == 21723  # 21722.5584 up
    assert settlement_amounts(_market(), "BUY", Decimal("1"), Decimal("1"), Decimal("0")).fee == 0


def test_amounts_that_cannot_be_exact_are_refused_not_rounded():
    long_number = Decimal("1." + "1" * 70)
    with pytest.raises(ValueError, match="too many digits"):
        settlement_amounts(_market(), "BUY", long_number, long_number, Decimal("0.0005"))


def test_settlement_expiration_is_expiry_plus_14_days_rounded_up_in_seconds():
    assert settlement_expiration_seconds(1_000_000) == 1000 + 14 * 86400
    assert settlement_expiration_seconds(1_000_001) == 1001 + 14 * 86400


def test_body_strings_are_plain_decimals_as_given(account, market):
    body = build_order_body(account, SN_MAIN, market,
                            **_limit_kwargs(qty=Decimal("1E-3"), price=Decimal("4.34451E+4")))
    assert (body["qty"], body["price"], body["fee"], body["nonce"]) == ("0.001", "43445.1", "0.0005", "1473459052")
    body = build_order_body(account, SN_MAIN, market,
                            **_limit_kwargs(qty=Decimal("0.00100"), price=Decimal("43445.10")))
    assert (body["qty"], body["price"]) == ("0.00100", "43445.10")


def test_limit_body_has_exactly_the_documented_fields(account, market):
    body = build_order_body(account, SN_MAIN, market, **_limit_kwargs(post_only=True))
    assert list(body) == ["id", "market", "type", "side", "qty", "price", "reduceOnly", "postOnly", "timeInForce",
                          "expiryEpochMillis", "fee", "nonce", "selfTradeProtectionLevel", "settlement",
                          "debuggingAmounts"]
    assert body["postOnly"] is True and body["settlement"]["collateralPosition"] == "10002"
    assert body["settlement"]["starkKey"] == ACCOUNT_JSON["public_key"]


def test_cancel_id_only_when_given(account, market):
    body = build_order_body(account, SN_MAIN, market, **_limit_kwargs(cancel_id="HBOT-OLD-1"))
    assert body["cancelId"] == "HBOT-OLD-1"
    assert list(body).index("cancelId") == list(body).index("selfTradeProtectionLevel") + 1
    assert "cancelId" not in build_order_body(account, SN_MAIN, market, **_limit_kwargs())


# ---------------------------------------------------------------- networks

def test_connector_domains_map_to_their_networks():
    assert signing_domain_for("extended_perpetual") is SN_MAIN
    assert signing_domain_for("extended_perpetual_testnet") is SN_SEPOLIA
    assert set(SIGNING_DOMAINS) == {"extended_perpetual", "extended_perpetual_testnet"}
    with pytest.raises(ValueError, match="unknown connector domain"):
        signing_domain_for("extended_perpetual_devnet")


def test_signature_of_one_network_does_not_verify_on_the_other(account, market):
    kwargs = _limit_kwargs()
    main_body = build_order_body(account, SN_MAIN, market, **kwargs)
    test_body = build_order_body(account, SN_SEPOLIA, market, **kwargs)
    assert main_body["settlement"]["signature"] != test_body["settlement"]["signature"]
    assert _verify_body_from_l2_config(test_body, MARKET_JSON, "SN_SEPOLIA")
    assert not _verify_body_from_l2_config(test_body, MARKET_JSON, "SN_MAIN")


# ---------------------------------------------------------------- nonce

def test_draw_nonce_uses_the_passed_in_generator():
    first = [draw_nonce(random.Random(7)) for _ in range(2)]
    assert first[0] == first[1] and 1 <= first[0] <= 2 ** 31
    assert draw_nonce(lambda low, high: high) == 2 ** 31
    with pytest.raises(ValueError, match="nonce"):
        draw_nonce(lambda low, high: 0)


# ---------------------------------------------------------------- market parsing

def test_from_api_parses_hex_ids_and_numeric_resolutions():
    market = SigningMarket.from_api(MARKET_JSON)
    assert market.synthetic_id == int(MARKET_JSON["l2Config"]["syntheticId"], 16)
    assert market.collateral_id == int(MARKET_JSON["l2Config"]["collateralId"], 16)
    assert market.synthetic_resolution == Decimal(1000000) and market.collateral_resolution == Decimal(1000000)
    assert (market.min_order_size, market.min_order_size_change, market.min_price_change) == (
        Decimal("0.0001"), Decimal("0.00001"), Decimal("0.1"))
    assert market.max_position_value == Decimal("10000000") and market.name == "BTC-USD"


def test_from_api_reads_json_numbers_without_float_error():
    item = json.loads(json.dumps(MARKET_JSON))
    item["tradingConfig"].update(minPriceChange=0.1, minOrderSizeChange=1e-05, minOrderSize=0.0001)
    item["l2Config"].update(syntheticResolution=1000000.0, syntheticId=int(item["l2Config"]["syntheticId"], 16))
    market = SigningMarket.from_api(item)
    assert (market.min_price_change, market.min_order_size_change, market.min_order_size) == (
        Decimal("0.1"), Decimal("0.00001"), Decimal("0.0001"))
    assert market.synthetic_resolution == Decimal(1000000) and market == SigningMarket.from_api(MARKET_JSON)


def test_from_api_refuses_a_malformed_item():
    with pytest.raises(ValueError, match="l2Config"):
        SigningMarket.from_api({"name": "BTC-USD", "tradingConfig": MARKET_JSON["tradingConfig"]})
    broken = json.loads(json.dumps(MARKET_JSON))
    broken["l2Config"]["syntheticId"] = "0xzz"
    with pytest.raises(ValueError, match="syntheticId"):
        SigningMarket.from_api(broken)
    broken = json.loads(json.dumps(MARKET_JSON))
    broken["l2Config"]["collateralResolution"] = 0
    with pytest.raises(ValueError, match="collateralResolution"):
        SigningMarket.from_api(broken)


# ---------------------------------------------------------------- secrets

def test_private_key_never_in_repr_or_str(account):
    for text in (repr(account), str(account), f"{account}"):
        assert PRIVATE_KEY_HEX[2:] not in text.lower() and str(account.private_key) not in text
        assert ACCOUNT_JSON["public_key"] in text


def test_bad_private_key_error_does_not_echo_it():
    secret = "0xnot-a-key-" + PRIVATE_KEY_HEX[2:]
    with pytest.raises(ValueError) as caught:
        StarkAccount.from_config(secret, ACCOUNT_JSON["public_key"], 1)
    assert PRIVATE_KEY_HEX[2:] not in str(caught.value) and caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_mismatched_key_pair_is_refused_without_echoing_keys():
    with pytest.raises(ValueError) as caught:
        StarkAccount.from_config(PRIVATE_KEY_HEX, hex(get_public_key(12345)), 1)
    assert "does not match" in str(caught.value) and PRIVATE_KEY_HEX[2:] not in str(caught.value)


@pytest.mark.parametrize("vault", [-1, 2 ** 32, "12x", True])
def test_vault_outside_u32_is_refused(vault):
    with pytest.raises(ValueError, match="vault"):
        StarkAccount.from_config(PRIVATE_KEY_HEX, ACCOUNT_JSON["public_key"], vault)


def test_vault_bounds_of_u32_are_accepted():
    assert StarkAccount.from_config(PRIVATE_KEY_HEX, ACCOUNT_JSON["public_key"], "4294967295").vault == 2 ** 32 - 1
    assert StarkAccount.from_config(PRIVATE_KEY_HEX, ACCOUNT_JSON["public_key"], 0).vault_str == "0"


# ---------------------------------------------------------------- validation before signing

BAD_ORDERS = [
    ("qty_zero", dict(qty=Decimal("0")), "qty must be positive"),
    ("qty_negative", dict(qty=Decimal("-0.001")), "qty must be positive"),
    ("qty_float", dict(qty=0.001), "qty must be a Decimal"),
    ("qty_nan", dict(qty=Decimal("NaN")), "qty must be positive"),
    ("qty_off_step", dict(qty=Decimal("0.000105")), "qty 0.000105 is not a multiple of 0.00001"),
    ("qty_below_min", dict(qty=Decimal("0.00009")), "below the market minimum 0.0001"),
    ("price_zero", dict(price=Decimal("0")), "price must be positive"),
    ("price_negative", dict(price=Decimal("-1")), "price must be positive"),
    ("price_off_tick", dict(price=Decimal("43445.15")), "price 43445.15 is not a multiple of 0.1"),
    ("amount_overflows_i64", dict(qty=Decimal("9300000000000")), "overflow the signed 64-bit"),
    ("fee_negative", dict(fee_rate=Decimal("-0.0001")), "fee_rate must be non-negative"),
    ("expiry_past", dict(expiry_ms=NOW_MS - 1), "expiry_ms is not in the future"),
    ("expiry_now", dict(expiry_ms=NOW_MS), "expiry_ms is not in the future"),
    ("expiry_beyond_90d", dict(expiry_ms=NOW_MS + 90 * DAY_MS + 1), "more than 90 days"),
    ("expiry_float", dict(expiry_ms=float(NOW_MS + HOUR_MS)), "expiry_ms must be an integer"),
    ("nonce_zero", dict(nonce=0), r"nonce must be an integer in \[1, 2\^31\]"),
    ("nonce_too_big", dict(nonce=2 ** 31 + 1), r"nonce must be an integer in \[1, 2\^31\]"),
    ("nonce_string", dict(nonce="5"), "nonce must be an integer"),
    ("id_too_long", dict(external_id="x" * 33), "external id"),
    ("id_bad_chars", dict(external_id="HBOT_B_1"), "external id"),
    ("id_empty", dict(external_id=""), "external id"),
    ("side_unknown", dict(side="buy"), "unknown side 'buy'"),
    ("type_unknown", dict(order_type="STOP"), "unknown order type 'STOP'"),
    ("tif_unknown", dict(time_in_force="GTC"), "unknown time in force 'GTC'"),
    ("tif_fok_deprecated", dict(time_in_force="FOK"), "unknown time in force 'FOK'"),
    ("stp_unknown", dict(self_trade_protection="NONE"), "unknown self trade protection level"),
    ("cancel_id_empty", dict(cancel_id=""), "cancel_id"),
    ("conditional_without_trigger", dict(order_type="CONDITIONAL"), "trigger is required"),
    ("tpsl_legs_without_type", dict(take_profit=TpSlLeg(Decimal("5e4"), "MARK", Decimal("5e4"))), "tp_sl_type"),
    ("tpsl_leg_market_price", dict(tp_sl_type="ORDER", take_profit=TpSlLeg(Decimal(5), "MARK", Decimal(5), "MARKET")),
     "unknown takeProfit price type"),
    ("tpsl_leg_off_tick", dict(tp_sl_type="ORDER", stop_loss=TpSlLeg(Decimal(5), "MARK", Decimal("5.05"))),
     "stopLoss price 5.05 is not a multiple"),
    ("tpsl_type_without_legs", dict(tp_sl_type="ORDER"), "without take_profit or stop_loss"),
    ("tpsl_order_not_reduce_only", dict(order_type="TPSL", price=Decimal(0), tp_sl_type="ORDER"), "reduce-only"),
    ("tpsl_order_with_price", dict(order_type="TPSL", reduce_only=True, tp_sl_type="ORDER",
                                   stop_loss=TpSlLeg(Decimal(5), "MARK", Decimal(5))), "price must be 0"),
]


@pytest.mark.parametrize("overrides, message", [pytest.param(o, m, id=n) for n, o, m in BAD_ORDERS])
def test_bad_input_is_refused_before_signing(overrides, message, account, market, monkeypatch):
    calls = []
    for crypto in ("rs_sign_message", "rs_get_order_msg", "get_order_msg_hash"):
        monkeypatch.setattr(signer, crypto, lambda *args: calls.append(args))
    with pytest.raises(ValueError, match=message) as caught:
        build_order_body(account, SN_MAIN, market, **_limit_kwargs(**overrides))
    assert calls == []
    assert PRIVATE_KEY_HEX[2:] not in str(caught.value) and str(account.private_key) not in str(caught.value)


@pytest.mark.parametrize("order_type, qty", [("LIMIT", "0.1"), ("MARKET", "0.01")])
def test_order_value_above_the_market_maximum_is_refused_before_signing(order_type, qty, account, market,
                                                                        monkeypatch):
    limited = replace(market, max_limit_order_value=Decimal("4344.51"), max_market_order_value=Decimal("434.451"))
    kwargs = _limit_kwargs(order_type=order_type, qty=Decimal(qty), price=Decimal("43445.1"), time_in_force="GTT",
                           post_only=False, reduce_only=False, self_trade_protection="ACCOUNT")
    assert build_order_body(account, SN_MAIN, limited, **kwargs)["qty"] == qty  # exactly at the maximum
    calls = []
    for crypto in ("rs_sign_message", "rs_get_order_msg", "get_order_msg_hash"):
        monkeypatch.setattr(signer, crypto, lambda *args: calls.append(args))
    kwargs["qty"] = Decimal(qty) + market.min_order_size_change
    maximum = limited.max_limit_order_value if order_type == "LIMIT" else limited.max_market_order_value
    message = f"exceeds the BTC-USD maximum order value {maximum}"
    with pytest.raises(ValueError, match=re.escape(message)):
        build_order_body(account, SN_MAIN, limited, **kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        OrderSigner(account, SN_MAIN, limited).order_body(*_order_signer_args(kwargs))
    assert calls == []


def test_order_value_check_is_exact_whatever_the_callers_decimal_context(account, market):
    """4344.51 > 4344.5 although a 5-digit context rounds the product down to the maximum."""
    limited = replace(market, max_limit_order_value=Decimal("4344.5"))
    kwargs = _limit_kwargs(order_type="LIMIT", qty=Decimal("0.1"), price=Decimal("43445.1"), time_in_force="GTT",
                           post_only=False, reduce_only=False, self_trade_protection="ACCOUNT")
    with decimal.localcontext(prec=5):
        with pytest.raises(ValueError, match=re.escape("Order value 4344.51 exceeds the BTC-USD maximum")):
            build_order_body(account, SN_MAIN, limited, **kwargs)
        with pytest.raises(ValueError, match=re.escape("Order value 4344.51 exceeds the BTC-USD maximum")):
            OrderSigner(account, SN_MAIN, limited).order_body(*_order_signer_args(kwargs))


def test_from_api_reads_the_maximum_order_values():
    parsed = SigningMarket.from_api(dict(MARKET_JSON, tradingConfig=dict(
        MARKET_JSON["tradingConfig"], maxLimitOrderValue="5000000", maxMarketOrderValue="1000000")))
    assert (parsed.max_limit_order_value, parsed.max_market_order_value) == (Decimal("5000000"), Decimal("1000000"))
    assert SigningMarket.from_api(MARKET_JSON).max_limit_order_value is None


def test_a_zero_maximum_order_value_keeps_the_market_and_refuses_that_order_type(account):
    no_market_orders = SigningMarket.from_api(dict(MARKET_JSON, tradingConfig=dict(
        MARKET_JSON["tradingConfig"], maxLimitOrderValue="5000000", maxMarketOrderValue="0")))
    kwargs = _limit_kwargs(time_in_force="GTT", post_only=False, reduce_only=False, self_trade_protection="ACCOUNT")
    assert OrderSigner(account, SN_MAIN, no_market_orders).order_body(*_order_signer_args(kwargs))["type"] == "LIMIT"
    kwargs.update(order_type="MARKET", time_in_force="IOC")
    with pytest.raises(ValueError, match="maximum order value 0"):
        OrderSigner(account, SN_MAIN, no_market_orders).order_body(*_order_signer_args(kwargs))


ORDER_SIGNER_BAD_ORDERS = [pytest.param(o, m, id=n) for n, o, m in BAD_ORDERS
                           if not {"cancel_id", "trigger", "take_profit", "stop_loss", "tp_sl_type"} & set(o)]


@pytest.mark.parametrize("overrides, message", ORDER_SIGNER_BAD_ORDERS)
def test_order_signer_refuses_bad_input_before_signing(overrides, message, account, market, monkeypatch):
    calls = []
    for crypto in ("rs_sign_message", "rs_get_order_msg", "get_order_msg_hash"):
        monkeypatch.setattr(signer, crypto, lambda *args: calls.append(args))
    kwargs = _limit_kwargs(time_in_force="GTT", post_only=False, reduce_only=False, self_trade_protection="ACCOUNT")
    kwargs.update(overrides)
    with pytest.raises(ValueError, match=message):
        OrderSigner(account, SN_MAIN, market).order_body(*_order_signer_args(kwargs))
    assert calls == []


def test_order_signer_repr_hides_the_private_key(account, market):
    text = repr(OrderSigner(account, SN_MAIN, market))
    assert "BTC-USD" in text and "SN_MAIN" in text
    assert PRIVATE_KEY_HEX[2:] not in text and str(account.private_key) not in text


def test_testnet_expiry_limit_is_28_days(account, market):
    assert build_order_body(account, SN_SEPOLIA, market, **_limit_kwargs(expiry_ms=NOW_MS + 28 * DAY_MS))
    with pytest.raises(ValueError, match="more than 28 days"):
        build_order_body(account, SN_SEPOLIA, market, **_limit_kwargs(expiry_ms=NOW_MS + 28 * DAY_MS + 1))
    assert build_order_body(account, SN_MAIN, market, **_limit_kwargs(expiry_ms=NOW_MS + 90 * DAY_MS))


def test_nonce_bounds_are_accepted(account, market):
    for nonce in (1, 2 ** 31):
        assert build_order_body(account, SN_MAIN, market, **_limit_kwargs(nonce=nonce))["nonce"] == str(nonce)


def test_external_id_check_accepts_hummingbot_style_ids():
    assert check_external_id("HBOT-B-BTCUSD-1a2b3c4d5e6f7a8b9c") == "HBOT-B-BTCUSD-1a2b3c4d5e6f7a8b9c"
    assert check_external_id("a" * 32) == "a" * 32


def test_largest_i64_amount_is_accepted(account):
    market = SigningMarket("T-USD", 2, 1, Decimal(1), Decimal(1), Decimal(0), Decimal(1), Decimal(1))
    body = build_order_body(account, SN_MAIN, market, **_limit_kwargs(
        qty=Decimal(2 ** 63 - 1), price=Decimal(1), fee_rate=Decimal(0), side="SELL"))
    assert body["debuggingAmounts"] == {"collateralAmount": str(2 ** 63 - 1), "feeAmount": "0",
                                        "syntheticAmount": str(-(2 ** 63 - 1))}


# ---------------------------------------------------------------- hot path vs. the library's int API

def test_sign_settlement_matches_order_message_hash_and_sign(account, market):
    rng = random.Random(20240105)
    for _ in range(5):
        side = rng.choice(["BUY", "SELL"])
        qty, price = Decimal(rng.randint(10, 10 ** 6)) / 10 ** 5, Decimal(rng.randint(1, 10 ** 7)) / 10
        amounts = settlement_amounts(market, side, qty, price, Decimal("0.00025"))
        expiration, nonce = rng.randint(1, 2 ** 32), rng.randint(1, 2 ** 31)
        signed = signer.sign_settlement(account, SN_MAIN, market, amounts, expiration, nonce)
        msg_hash = order_message_hash(SN_MAIN, market, amounts, expiration, nonce, account.vault, account.public_key)
        assert signed.msg_hash == msg_hash
        assert (signed.r, signed.s) == sign(account.private_key, msg_hash)
        assert verify(account.public_key, msg_hash, signed.r, signed.s)


def test_market_ioc_order_verifies_from_its_body(account, market):
    body = build_order_body(account, SN_MAIN, market, **_limit_kwargs(
        order_type="MARKET", time_in_force="IOC", side="SELL", price=Decimal("42000.0")))
    assert (body["type"], body["timeInForce"], body["price"]) == ("MARKET", "IOC", "42000.0")
    assert _verify_body_from_l2_config(body, MARKET_JSON, "SN_MAIN")


# ---------------------------------------------------------------- conditional and TP/SL refusals

TRIGGER = ConditionalTrigger(Decimal("43400"), "INDEX", "UP", "MARKET")


def test_trigger_only_on_conditional_orders(account, market):
    with pytest.raises(ValueError, match="trigger is required for CONDITIONAL orders and allowed only"):
        build_order_body(account, SN_MAIN, market, **_limit_kwargs(trigger=TRIGGER))
    body = build_order_body(account, SN_MAIN, market, **_limit_kwargs(order_type="CONDITIONAL", trigger=TRIGGER))
    assert body["trigger"] == {"triggerPrice": "43400", "triggerPriceType": "INDEX", "direction": "UP",
                               "executionPriceType": "MARKET"}


@pytest.mark.parametrize("trigger, message", [
    (replace(TRIGGER, direction="SIDEWAYS"), "unknown trigger direction"),
    (replace(TRIGGER, trigger_price_type="MID"), "unknown trigger price type"),
    (replace(TRIGGER, execution_price_type="STOP"), "unknown execution price type"),
    (replace(TRIGGER, trigger_price=Decimal(0)), "trigger price must be positive"),
])
def test_bad_conditional_trigger_is_refused(trigger, message, account, market):
    with pytest.raises(ValueError, match=message):
        build_order_body(account, SN_MAIN, market, **_limit_kwargs(order_type="CONDITIONAL", trigger=trigger))


def _tpsl_kwargs(**overrides):
    leg = TpSlLeg(Decimal("40000"), "MARK", Decimal("39000"))
    return _limit_kwargs(**{**dict(order_type="TPSL", side="SELL", reduce_only=True, qty=Decimal(0),
                                   price=Decimal(0), tp_sl_type="POSITION", stop_loss=leg), **overrides})


def test_position_tpsl_needs_zero_qty_and_max_position_value(account, market):
    body = build_order_body(account, SN_MAIN, market, **_tpsl_kwargs())
    assert "settlement" not in body and body["stopLoss"]["debuggingAmounts"]["syntheticAmount"] == "-12820512820"
    with pytest.raises(ValueError, match="qty must be 0 for POSITION TPSL"):
        build_order_body(account, SN_MAIN, market, **_tpsl_kwargs(qty=Decimal("0.001")))
    with pytest.raises(ValueError, match="maxPositionValue"):
        build_order_body(account, SN_MAIN, replace(market, max_position_value=None), **_tpsl_kwargs())
    with pytest.raises(ValueError, match="tp_sl_type is required"):
        build_order_body(account, SN_MAIN, market, **_tpsl_kwargs(tp_sl_type=None, stop_loss=None))
    with pytest.raises(ValueError, match="reduce-only and not post-only"):
        build_order_body(account, SN_MAIN, market, **_tpsl_kwargs(post_only=True))
