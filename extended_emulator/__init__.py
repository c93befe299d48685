"""Local Extended (Starknet perpetuals) exchange emulator — see README.md.

In-process use::

    from extended_emulator import Emulator
    emu = Emulator(seed=7, network="mainnet", ping_interval=15.0, pong_timeout=10.0)
    base_url = await emu.start(host="127.0.0.1", port=0)      # "http://127.0.0.1:PORT"
    emu.add_account(api_key="k", stark_public_key=0x..., vault=10002, balance=Decimal("10000"))
    ...
    await emu.stop()

Out of process: ``python -m extended_emulator --port 8765 --seed 7 --network mainnet``.
"""
from .accounts import FeeRates
from .app import Emulator
from .order_builder import LegSpec, OrderSpec, build_order_body
from .triggers import Trigger

__all__ = ["Emulator", "FeeRates", "LegSpec", "OrderSpec", "Trigger", "build_order_body"]
