"""Extended authentication: the API key as an ``X-Api-Key`` header, never in a URL or query string.

Orders additionally carry a Stark signature, produced by ``extended_perpetual_signer`` (not here).
"""
from typing import Dict

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.connections.data_types import RESTRequest, WSRequest


class ExtendedPerpetualAuth(AuthBase):
    def __init__(self, api_key: str):
        self._api_key = api_key

    def __repr__(self) -> str:
        return f"{type(self).__name__}(api_key=***)"

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        headers = dict(request.headers or {})
        headers.update(self.header_for_authentication())
        request.headers = headers
        return request

    async def ws_authenticate(self, request: WSRequest) -> WSRequest:
        # Extended authenticates a stream at its handshake (see ws_handshake_headers); messages carry nothing.
        return request

    def header_for_authentication(self) -> Dict[str, str]:
        return {CONSTANTS.API_KEY_HEADER: self._api_key, CONSTANTS.USER_AGENT_HEADER: CONSTANTS.USER_AGENT}

    def ws_handshake_headers(self) -> Dict[str, str]:
        """Headers of the private account stream's handshake: API key and User-Agent."""
        return self.header_for_authentication()
