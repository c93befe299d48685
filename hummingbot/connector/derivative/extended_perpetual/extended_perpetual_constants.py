"""Extended (Starknet perpetuals) constants: domains, URLs, paths, rate limits, order statuses, error codes.

Every REST and stream path the connector uses is named here, relative to the domain's REST base
(``.../api/v1``) or stream base (``.../stream.extended.exchange/v1``).
"""
from hummingbot.core.api_throttler.data_types import LinkedLimitWeightPair, RateLimit
from hummingbot.core.data_type.in_flight_order import OrderState

EXCHANGE_NAME = "extended_perpetual"
DEFAULT_DOMAIN = "extended_perpetual"
TESTNET_DOMAIN = "extended_perpetual_testnet"
DOMAINS = (DEFAULT_DOMAIN, TESTNET_DOMAIN)

REST_URLS = {
    DEFAULT_DOMAIN: "https://api.starknet.extended.exchange/api/v1",
    TESTNET_DOMAIN: "https://api.starknet.sepolia.extended.exchange/api/v1",
}
WSS_URLS = {
    DEFAULT_DOMAIN: "wss://api.starknet.extended.exchange/stream.extended.exchange/v1",
    TESTNET_DOMAIN: "wss://starknet.sepolia.extended.exchange/stream.extended.exchange/v1",
}
# Path prefixes appended to an overriding host (see BASE_URL_OVERRIDE_ENV_VAR).
REST_PATH_PREFIX = "/api/v1"
STREAM_PATH_PREFIX = "/stream.extended.exchange/v1"
# One environment variable points both REST and streams at another Extended-compatible server, e.g.
# EXTENDED_PERPETUAL_BASE_URL=http://127.0.0.1:8765 (plain http/ws is accepted only for loopback hosts).
BASE_URL_OVERRIDE_ENV_VAR = "EXTENDED_PERPETUAL_BASE_URL"

# The SNIP-12 signing domain's chain id is tied to the connector domain, so that a signature meant for one
# network can never be produced for the other.
STARKNET_CHAIN_IDS = {
    DEFAULT_DOMAIN: "SN_MAIN",
    TESTNET_DOMAIN: "SN_SEPOLIA",
}
# GTT expiry limits (days from creation): 90 on mainnet, 28 on testnet.
MAX_ORDER_EXPIRY_DAYS = {
    DEFAULT_DOMAIN: 90,
    TESTNET_DOMAIN: 28,
}

USER_AGENT = "hummingbot-extended-perpetual-connector/1.0"
API_KEY_HEADER = "X-Api-Key"
USER_AGENT_HEADER = "User-Agent"

HBOT_ORDER_ID_PREFIX = "HBOT"
MAX_ORDER_ID_LEN = 32  # external ids: at most 32 characters of [A-Za-z0-9-]

# ---- public REST ----
MARKETS_PATH_URL = "/info/markets"
MARKET_STATS_PATH_URL = "/info/markets/{market}/stats"
ORDER_BOOK_PATH_URL = "/info/markets/{market}/orderbook"
MARKET_TRADES_PATH_URL = "/info/markets/{market}/trades"
CANDLES_PATH_URL = "/info/candles/{market}/{candle_type}"
FUNDING_RATES_HISTORY_PATH_URL = "/info/{market}/funding"
OPEN_INTEREST_HISTORY_PATH_URL = "/info/{market}/open-interests"

# ---- private REST ----
BALANCE_PATH_URL = "/user/balance"
POSITIONS_PATH_URL = "/user/positions"
POSITIONS_HISTORY_PATH_URL = "/user/positions/history"
OPEN_ORDERS_PATH_URL = "/user/orders"
ORDERS_HISTORY_PATH_URL = "/user/orders/history"
ORDER_BY_ID_PATH_URL = "/user/orders/{order_id}"
ORDER_BY_EXTERNAL_ID_PATH_URL = "/user/orders/external/{external_id}"
TRADES_PATH_URL = "/user/trades"
FUNDING_PAYMENTS_PATH_URL = "/user/funding/history"
LEVERAGE_PATH_URL = "/user/leverage"
FEES_PATH_URL = "/user/fees"
ORDER_PATH_URL = "/user/order"  # POST creates / edits; DELETE ?externalId= cancels by external id
CANCEL_ORDER_BY_ID_PATH_URL = "/user/order/{order_id}"
MASS_CANCEL_PATH_URL = "/user/order/massCancel"
DEAD_MAN_SWITCH_PATH_URL = "/user/deadmanswitch"

# ---- streams ----
WS_ORDER_BOOK_PATH = "/orderbooks/{market}"
WS_PUBLIC_TRADES_PATH = "/publicTrades/{market}"
WS_FUNDING_PATH = "/funding/{market}"
WS_MARK_PRICE_PATH = "/prices/mark/{market}"
WS_INDEX_PRICE_PATH = "/prices/index/{market}"
WS_CANDLES_PATH = "/candles/{market}/{candle_type}"
WS_ACCOUNT_PATH = "/account"

# The server pings every 15 s and drops a client that has not answered within 10 s; aiohttp answers pings
# itself. A socket silent for longer than this is considered dead and reconnected.
WS_HEARTBEAT_TIME_INTERVAL = 15.0
WS_RECEIVE_TIMEOUT = 45.0
WS_RECONNECT_INITIAL_DELAY = 1.0
WS_RECONNECT_MAX_DELAY = 30.0

FUNDING_INTERVAL_SECONDS = 60 * 60  # funding is paid hourly

# ---- rate limits: 1,000 requests per minute per IP, shared by every endpoint ----
ALL_ENDPOINTS_LIMIT_ID = "ExtendedAllEndpoints"
REQUESTS_PER_MINUTE = 1000
ONE_MINUTE = 60

_REST_PATHS = (
    MARKETS_PATH_URL, MARKET_STATS_PATH_URL, ORDER_BOOK_PATH_URL, MARKET_TRADES_PATH_URL, CANDLES_PATH_URL,
    FUNDING_RATES_HISTORY_PATH_URL, OPEN_INTEREST_HISTORY_PATH_URL,
    BALANCE_PATH_URL, POSITIONS_PATH_URL, POSITIONS_HISTORY_PATH_URL, OPEN_ORDERS_PATH_URL,
    ORDERS_HISTORY_PATH_URL, ORDER_BY_ID_PATH_URL, ORDER_BY_EXTERNAL_ID_PATH_URL, TRADES_PATH_URL,
    FUNDING_PAYMENTS_PATH_URL, LEVERAGE_PATH_URL, FEES_PATH_URL, ORDER_PATH_URL, CANCEL_ORDER_BY_ID_PATH_URL,
    MASS_CANCEL_PATH_URL, DEAD_MAN_SWITCH_PATH_URL,
)

RATE_LIMITS = [RateLimit(limit_id=ALL_ENDPOINTS_LIMIT_ID, limit=REQUESTS_PER_MINUTE, time_interval=ONE_MINUTE)] + [
    RateLimit(
        limit_id=path,
        limit=REQUESTS_PER_MINUTE,
        time_interval=ONE_MINUTE,
        linked_limits=[LinkedLimitWeightPair(ALL_ENDPOINTS_LIMIT_ID)],
    )
    for path in _REST_PATHS
]

# ---- order statuses (all eight documented) ----
ORDER_STATE = {
    "NEW": OrderState.OPEN,
    "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED,
    "FILLED": OrderState.FILLED,
    "UNTRIGGERED": OrderState.OPEN,
    "TRIGGERED": OrderState.OPEN,
    "CANCELLED": OrderState.CANCELED,
    "REJECTED": OrderState.FAILED,
    "EXPIRED": OrderState.CANCELED,
}
OPEN_ORDER_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED", "UNTRIGGERED", "TRIGGERED"})

# ---- market statuses ----
MARKET_STATUS_ACTIVE = "ACTIVE"
MARKET_STATUS_REDUCE_ONLY = "REDUCE_ONLY"
NON_TRADABLE_MARKET_STATUSES = frozenset({"DELISTED", "PRELISTED", "DISABLED"})

# ---- order fields ----
SIDE_BUY = "BUY"
SIDE_SELL = "SELL"
ORDER_TYPE_LIMIT = "LIMIT"
ORDER_TYPE_MARKET = "MARKET"
TIME_IN_FORCE_GTT = "GTT"
TIME_IN_FORCE_IOC = "IOC"
SELF_TRADE_PROTECTION_ACCOUNT = "ACCOUNT"
POSITION_SIDE_LONG = "LONG"
POSITION_SIDE_SHORT = "SHORT"
STATUS_REASON_POST_ONLY_FAILED = "POST_ONLY_FAILED"
MAX_OPEN_ORDERS_PER_MARKET = 200
MARKET_ORDER_MAX_DEVIATION_FROM_MARK = "0.05"  # market orders: price within mark ±5%
DEFAULT_MARKET_ORDER_SLIPPAGE = "0.0075"  # Extended's UI: best ask × 1.0075 / best bid × 0.9925

# ---- documented error codes ----
HTTP_UNAUTHORIZED = 401
HTTP_NOT_FOUND = 404
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500
ERROR_CODE_NOT_FOUND = 404
ERROR_CODE_RATE_LIMITED = 429
ERROR_CODE_MARKET_NOT_FOUND = 1001
ERROR_CODE_MARKET_DISABLED = 1002
ERROR_CODE_ACCOUNT_NOT_FOUND = 1004
ERROR_CODE_MARKET_REDUCE_ONLY = 1014
ERROR_CODE_INVALID_STARKNET_PUBLIC_KEY = 1100
ERROR_CODE_INVALID_STARKNET_SIGNATURE = 1101
ERROR_CODE_INVALID_STARKNET_VAULT = 1102
ERROR_CODE_EDIT_ORDER_NOT_FOUND = 1142
ERROR_CODE_ORDER_COST_EXCEEDS_BALANCE = 1140

ERROR_CODES = {
    400: "BadRequest: invalid or missing parameters",
    401: "Unauthorized: authentication failure (check the API key, and that it has no surrounding whitespace)",
    403: "Forbidden: access denied",
    404: "NotFound: resource not found",
    422: "UnprocessableEntity: request format is correct, but data is invalid",
    429: "RateLimited: the IP address exceeded the rate limit",
    500: "InternalServerError",
    1000: "AssetNotFound",
    1001: "MarketNotFound",
    1002: "MarketDisabled",
    1003: "MarketGroupNotFound",
    1004: "AccountNotFound",
    1005: "NotSupportedInterval",
    1006: "UnhandledError",
    1008: "ClientNotFound",
    1009: "ActionNotAllowed",
    1010: "MaintenanceMode",
    1011: "PostOnlyMode",
    1012: "ReduceOnlyMode",
    1013: "InvalidPercentage",
    1014: "MarketReduceOnly: only reduce-only orders are allowed in this market",
    1049: "InvalidLeverageBelowMinLeverage",
    1050: "InvalidLeverageExceedsMaxLeverage",
    10501: "InvalidLeverageMaxPositionValueExceeded",
    1052: "InvalidLeverageInsufficientMargin",
    1053: "InvalidLeverageInvalidPrecision",
    1100: "InvalidStarknetPublicKey: the configured Stark public key is not this account's",
    1101: "InvalidStarknetSignature: check the Stark private key, the vault id and the network (mainnet/testnet)",
    1102: "InvalidStarknetVault: the vault id does not belong to this account",
    1120: "OrderQtyLessThanMinTradeSize",
    1121: "InvalidQtyWrongSizeIncrement",
    1122: "OrderValueExceedsMaxOrderValue",
    1123: "InvalidQtyPrecision",
    1124: "InvalidPriceWrongPriceMovement",
    1125: "InvalidPricePrecision",
    1126: "MaxOpenOrdersNumberExceeded",
    1127: "MaxPositionValueExceeded",
    1128: "InvalidTradingFees",
    1129: "InvalidPositionTpslQty",
    1130: "MissingOrderPrice",
    1131: "MissingTpslTrigger",
    1132: "NotAllowedOrderType",
    1133: "InvalidOrderParameters",
    1134: "DuplicateOrder",
    1135: "InvalidOrderExpiration",
    1136: "ReduceOnlyOrderSizeExceedsPositionSize",
    1137: "ReduceOnlyOrderPositionIsMissing",
    1138: "ReduceOnlyOrderPositionSameSide",
    1139: "MarketOrderMustBeIOC",
    1140: "OrderCostExceedsBalance: not enough available balance",
    1141: "InvalidPriceAmount",
    1142: "EditOrderNotFound",
    1143: "MissingConditionalTrigger",
    1144: "PostOnlyCantBeOnConditionalMarketOrder",
    1145: "NonReduceOnlyOrdersNotAllowed",
    1146: "TwapOrderMustBeGTT",
    1147: "OpenLossExceedsEquity",
    1148: "TPSLOpenLossExceedsEquity",
    1500: "AccountNotSelected",
}
