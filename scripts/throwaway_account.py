"""A throw-away Extended account for the local emulator: random Stark keys, API key and vault. Never a real one."""
import secrets
from dataclasses import dataclass, field
from typing import Dict

import fast_stark_crypto

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_utils import STARK_CURVE_ORDER


@dataclass(frozen=True)
class ThrowAwayAccount:
    api_key: str = field(repr=False)
    private_key: int = field(repr=False)
    public_key: int
    vault: int

    @classmethod
    def generate(cls) -> "ThrowAwayAccount":
        private_key = secrets.randbelow(STARK_CURVE_ORDER - 1) + 1
        return cls(api_key=secrets.token_hex(16), private_key=private_key,
                   public_key=fast_stark_crypto.get_public_key(private_key), vault=secrets.randbelow(2**31) + 1)

    def connector_keys(self, connector: str = CONSTANTS.DEFAULT_DOMAIN) -> Dict[str, str]:
        """The four config-map values, as Hummingbot's ``connect`` hands them to the connector."""
        return {
            f"{connector}_api_key": self.api_key,
            f"{connector}_stark_private_key": hex(self.private_key),
            f"{connector}_stark_public_key": hex(self.public_key),
            f"{connector}_vault_id": str(self.vault),
        }
