import os
import unittest
from unittest.mock import patch

from aioresponses import aioresponses

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_auth import ExtendedPerpetualAuth
from hummingbot.core.web_assistant.connections.data_types import RESTMethod

API_KEY = "0123456789abcdef-api-key-secret"


class UrlTests(unittest.TestCase):
    def setUp(self):
        patcher = patch.dict(os.environ, {}, clear=False)
        patcher.start()
        self.addCleanup(patcher.stop)
        os.environ.pop(CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR, None)

    def test_mainnet_and_testnet_bases(self):
        self.assertEqual("https://api.starknet.extended.exchange/api/v1/info/markets",
                         web_utils.public_rest_url(CONSTANTS.MARKETS_PATH_URL, CONSTANTS.DEFAULT_DOMAIN))
        self.assertEqual("https://api.starknet.sepolia.extended.exchange/api/v1/user/balance",
                         web_utils.private_rest_url(CONSTANTS.BALANCE_PATH_URL, CONSTANTS.TESTNET_DOMAIN))
        self.assertEqual("wss://api.starknet.extended.exchange/stream.extended.exchange/v1/account",
                         web_utils.wss_url(CONSTANTS.WS_ACCOUNT_PATH, CONSTANTS.DEFAULT_DOMAIN))
        self.assertEqual("wss://starknet.sepolia.extended.exchange/stream.extended.exchange/v1/orderbooks/BTC-USD",
                         web_utils.wss_url(CONSTANTS.WS_ORDER_BOOK_PATH.format(market="BTC-USD"),
                                           CONSTANTS.TESTNET_DOMAIN))

    def test_chain_id_is_tied_to_domain(self):
        self.assertEqual({"extended_perpetual": "SN_MAIN", "extended_perpetual_testnet": "SN_SEPOLIA"},
                         CONSTANTS.STARKNET_CHAIN_IDS)

    def test_unknown_domain_is_refused(self):
        with self.assertRaises(ValueError):
            web_utils.rest_url(CONSTANTS.MARKETS_PATH_URL, "extended_perpetual_devnet")

    def test_override_points_rest_and_streams_at_loopback_server(self):
        os.environ[CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR] = "http://127.0.0.1:8765/"
        urls = web_utils.base_urls(CONSTANTS.DEFAULT_DOMAIN)
        self.assertTrue(urls.overridden)
        self.assertEqual("http://127.0.0.1:8765/api/v1/info/markets",
                         web_utils.rest_url(CONSTANTS.MARKETS_PATH_URL, CONSTANTS.TESTNET_DOMAIN))
        self.assertEqual("ws://127.0.0.1:8765/stream.extended.exchange/v1/account",
                         web_utils.wss_url(CONSTANTS.WS_ACCOUNT_PATH))

    def test_override_with_https_any_host_gives_wss(self):
        os.environ[CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR] = "https://extended.example.org"
        self.assertEqual("wss://extended.example.org/stream.extended.exchange/v1/account",
                         web_utils.wss_url(CONSTANTS.WS_ACCOUNT_PATH))

    def test_plain_http_refused_for_non_loopback_hosts(self):
        for value in ("http://10.0.0.5:8765", "http://example.org", "ftp://127.0.0.1", "127.0.0.1:8765"):
            os.environ[CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR] = value
            with self.assertRaises(ValueError, msg=value) as context:
                web_utils.base_urls()
            self.assertIn(CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR, str(context.exception))
        os.environ[CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR] = "http://localhost:9000"
        self.assertEqual("http://localhost:9000/api/v1", web_utils.base_urls().rest)


class RateLimitAndStatusTests(unittest.TestCase):
    def test_every_rest_path_is_linked_to_the_single_shared_pool(self):
        pool = [limit for limit in CONSTANTS.RATE_LIMITS if limit.limit_id == CONSTANTS.ALL_ENDPOINTS_LIMIT_ID]
        self.assertEqual(1, len(pool))
        self.assertEqual((1000, 60), (pool[0].limit, pool[0].time_interval))
        path_names = [name for name in dir(CONSTANTS) if name.endswith("_PATH_URL")]
        limits = {limit.limit_id: limit for limit in CONSTANTS.RATE_LIMITS}
        for name in path_names:
            path = getattr(CONSTANTS, name)
            self.assertIn(path, limits, name)
            self.assertEqual([CONSTANTS.ALL_ENDPOINTS_LIMIT_ID],
                             [linked.limit_id for linked in limits[path].linked_limits], name)

    def test_all_eight_documented_order_statuses_are_mapped(self):
        self.assertEqual({"NEW", "PARTIALLY_FILLED", "FILLED", "UNTRIGGERED", "CANCELLED", "REJECTED", "EXPIRED",
                          "TRIGGERED"}, set(CONSTANTS.ORDER_STATE))


class HeaderTests(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        patcher = patch.dict(os.environ, {}, clear=False)
        patcher.start()
        self.addCleanup(patcher.stop)
        os.environ.pop(CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR, None)

    async def _execute(self, is_auth_required: bool):
        factory = web_utils.build_api_factory(auth=ExtendedPerpetualAuth(API_KEY))
        rest = await factory.get_rest_assistant()
        url = web_utils.rest_url(CONSTANTS.BALANCE_PATH_URL)
        with aioresponses() as mocked:
            mocked.get(url, payload={"status": "OK", "data": {}})
            await rest.execute_request(url=url, method=RESTMethod.GET, is_auth_required=is_auth_required,
                                       throttler_limit_id=CONSTANTS.BALANCE_PATH_URL)
            (request_key, calls), = mocked.requests.items()
        return str(request_key[1]), calls[0].kwargs["headers"]

    async def test_public_request_carries_user_agent_but_no_key(self):
        url, headers = await self._execute(is_auth_required=False)
        self.assertEqual(CONSTANTS.USER_AGENT, headers["User-Agent"])
        self.assertNotIn("X-Api-Key", headers)

    async def test_private_request_carries_key_in_header_never_in_url(self):
        url, headers = await self._execute(is_auth_required=True)
        self.assertEqual(API_KEY, headers["X-Api-Key"])
        self.assertEqual(CONSTANTS.USER_AGENT, headers["User-Agent"])
        self.assertNotIn(API_KEY, url)

    def test_handshake_headers_and_repr(self):
        auth = ExtendedPerpetualAuth(API_KEY)
        self.assertEqual({"X-Api-Key": API_KEY, "User-Agent": CONSTANTS.USER_AGENT}, auth.ws_handshake_headers())
        self.assertEqual({"User-Agent": CONSTANTS.USER_AGENT}, web_utils.public_ws_headers())
        self.assertEqual("ExtendedPerpetualAuth(api_key=***)", repr(auth))  # nothing of the key, not its end
