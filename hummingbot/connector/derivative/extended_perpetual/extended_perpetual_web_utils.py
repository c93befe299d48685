"""URL builders and the WebAssistantsFactory for Extended.

Extended has no server-time endpoint, so no time-synchronizer pre-processor is installed and no time request is
ever sent. Every request, public or private, carries ``User-Agent`` (mandatory on Extended); the API key is
added by ``ExtendedPerpetualAuth`` on private requests only, always as a header.
"""
import ipaddress
import os
from dataclasses import dataclass
from typing import Dict, Optional
from urllib.parse import urlsplit

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.core.api_throttler.async_throttler import AsyncThrottler
from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.connections.data_types import RESTRequest
from hummingbot.core.web_assistant.rest_pre_processors import RESTPreProcessorBase
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

_SECURE_TO_PLAIN_WS = {"https": "wss", "http": "ws"}


@dataclass(frozen=True)
class BaseUrls:
    rest: str
    stream: str
    overridden: bool


def _is_loopback(host: Optional[str]) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_base_url_override(value: str) -> BaseUrls:
    """``https://host[:port]`` (or ``http://`` for a loopback host only) -> REST and stream bases on that host."""
    parts = urlsplit(value.strip().rstrip("/"))
    if parts.scheme not in _SECURE_TO_PLAIN_WS or not parts.netloc:
        raise ValueError(f"{CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR} must look like https://host[:port]")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"{CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR}: plain http is accepted only for loopback hosts")
    host = f"{parts.scheme}://{parts.netloc}"
    stream_host = f"{_SECURE_TO_PLAIN_WS[parts.scheme]}://{parts.netloc}"
    return BaseUrls(
        rest=host + CONSTANTS.REST_PATH_PREFIX,
        stream=stream_host + CONSTANTS.STREAM_PATH_PREFIX,
        overridden=True,
    )


def base_urls(domain: str = CONSTANTS.DEFAULT_DOMAIN) -> BaseUrls:
    """The domain's REST and stream bases, or the ones named by the override environment variable."""
    override = os.environ.get(CONSTANTS.BASE_URL_OVERRIDE_ENV_VAR, "").strip()
    if override:
        return parse_base_url_override(override)
    if domain not in CONSTANTS.REST_URLS:
        raise ValueError(f"unknown Extended domain {domain!r}; expected one of {CONSTANTS.DOMAINS}")
    return BaseUrls(rest=CONSTANTS.REST_URLS[domain], stream=CONSTANTS.WSS_URLS[domain], overridden=False)


def rest_url(path_url: str, domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return base_urls(domain).rest + path_url


def public_rest_url(path_url: str, domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return rest_url(path_url, domain)


def private_rest_url(path_url: str, domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return rest_url(path_url, domain)


def wss_url(path: str, domain: str = CONSTANTS.DEFAULT_DOMAIN) -> str:
    return base_urls(domain).stream + path


def public_ws_headers() -> Dict[str, str]:
    """Handshake headers of a public stream (User-Agent is mandatory on every WebSocket handshake)."""
    return {CONSTANTS.USER_AGENT_HEADER: CONSTANTS.USER_AGENT}


class ExtendedPerpetualRESTPreProcessor(RESTPreProcessorBase):
    """Adds ``User-Agent`` (and JSON content type) to every REST request, public or private."""

    async def pre_process(self, request: RESTRequest) -> RESTRequest:
        headers = dict(request.headers or {})
        headers[CONSTANTS.USER_AGENT_HEADER] = CONSTANTS.USER_AGENT
        headers.setdefault("Content-Type", "application/json")
        request.headers = headers
        return request


def create_throttler() -> AsyncThrottler:
    return AsyncThrottler(CONSTANTS.RATE_LIMITS)


def build_api_factory(
    throttler: Optional[AsyncThrottler] = None,
    auth: Optional[AuthBase] = None,
) -> WebAssistantsFactory:
    return WebAssistantsFactory(
        throttler=throttler or create_throttler(),
        auth=auth,
        rest_pre_processors=[ExtendedPerpetualRESTPreProcessor()],
    )
