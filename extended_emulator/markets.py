"""Market definitions: trading rules, Starknet (l2) config, prices and status."""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Dict, List

D = Decimal
COLLATERAL_ID = "0x31857064564ed0ff978e687456963cba09c2c6985d8f9300a1de4962fafa054"
ACTIVE, REDUCE_ONLY, DISABLED = "ACTIVE", "REDUCE_ONLY", "DISABLED"


@dataclass(frozen=True)
class TradingConfig:
    min_order_size: Decimal
    min_order_size_change: Decimal
    min_price_change: Decimal
    max_market_order_value: Decimal = D("1000000")
    max_limit_order_value: Decimal = D("5000000")
    max_position_value: Decimal = D("10000000")
    max_leverage: Decimal = D("50")
    max_num_orders: int = 200
    limit_price_cap: Decimal = D("0.05")
    limit_price_floor: Decimal = D("0.05")

    def to_json(self) -> dict:
        return {
            "minOrderSize": str(self.min_order_size),
            "minOrderSizeChange": str(self.min_order_size_change),
            "minPriceChange": str(self.min_price_change),
            "maxMarketOrderValue": str(self.max_market_order_value),
            "maxLimitOrderValue": str(self.max_limit_order_value),
            "maxPositionValue": str(self.max_position_value),
            "maxLeverage": str(self.max_leverage),
            "maxNumOrders": str(self.max_num_orders),
            "limitPriceCap": str(self.limit_price_cap),
            "limitPriceFloor": str(self.limit_price_floor),
        }


@dataclass(frozen=True)
class L2Config:
    synthetic_id: str
    synthetic_resolution: int
    collateral_id: str = COLLATERAL_ID
    collateral_resolution: int = 1_000_000

    def to_json(self) -> dict:
        return {
            "type": "STARKX",
            "collateralId": self.collateral_id,
            "collateralResolution": self.collateral_resolution,
            "syntheticId": self.synthetic_id,
            "syntheticResolution": self.synthetic_resolution,
        }


@dataclass
class Market:
    name: str
    asset_precision: int
    trading: TradingConfig
    l2: L2Config
    mark_price: Decimal
    index_price: Decimal
    funding_rate: Decimal = D("0.0001")
    status: str = ACTIVE
    collateral_precision: int = 6
    last_price: Decimal = D("0")

    @property
    def asset_name(self) -> str:
        return self.name.split("-")[0]

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def to_json(self, stats: dict) -> dict:
        return {
            "name": self.name,
            "assetName": self.asset_name,
            "assetPrecision": self.asset_precision,
            "collateralAssetName": "USD",
            "collateralAssetPrecision": self.collateral_precision,
            "active": self.active,
            "status": self.status,
            "marketStats": stats,
            "tradingConfig": self.trading.to_json(),
            "l2Config": self.l2.to_json(),
        }


def synthetic_asset_id(asset: str, decimals: int) -> str:
    """Extended-style synthetic id: ASCII of "<ASSET>-<decimals>" left-aligned in 15 bytes."""
    return "0x" + f"{asset}-{decimals}".encode().hex().ljust(30, "0")


def _market(name: str, precision: int, size: str, step: str, tick: str, mark: str, **extra) -> Market:
    trading = TradingConfig(D(size), D(step), D(tick), **extra.pop("trading", {}))
    resolution = extra.pop("resolution", 10 ** precision)
    l2 = L2Config(synthetic_asset_id(name.split("-")[0], precision), resolution)
    price = D(mark)
    return Market(name, precision, trading, l2, price, price, **extra)


def default_markets() -> Dict[str, Market]:
    """BTC-USD uses the SDK golden vectors' l2Config and tradingConfig."""
    btc = _market("BTC-USD", 5, "0.0001", "0.00001", "0.1", "97000.0", resolution=1_000_000)
    btc = replace(btc, l2=L2Config("0x4254432d3600000000000000000000", 1_000_000))
    markets: List[Market] = [
        btc,
        _market("ETH-USD", 3, "0.001", "0.001", "0.01", "3400.00", funding_rate=D("0.00008")),
        _market("SOL-USD", 2, "0.01", "0.01", "0.001", "190.000", funding_rate=D("-0.00005")),
        _market("DOGE-USD", 0, "10", "1", "0.00001", "0.32000", status=REDUCE_ONLY),
        _market("LUNA-USD", 1, "1", "0.1", "0.0001", "0.5000", status=DISABLED),
    ]
    return {m.name: m for m in markets}


def with_trading_overrides(market: Market, **overrides) -> Market:
    """Copy of ``market`` with some TradingConfig fields replaced (snake_case names)."""
    return replace(market, trading=replace(market.trading, **overrides))
