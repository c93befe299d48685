"""``python -m extended_emulator --port 8765 --seed 7 [--network mainnet|testnet]``"""
from __future__ import annotations

import argparse
import asyncio
import logging

from .app import Emulator

log = logging.getLogger("extended_emulator")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m extended_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--network", choices=("mainnet", "testnet"), default="mainnet")
    parser.add_argument("--ping-interval", type=float, default=15.0)
    parser.add_argument("--pong-timeout", type=float, default=10.0)
    parser.add_argument("--mm-interval", type=float, default=1.0,
                        help="seconds between market-maker price steps (0 = static book)")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    emulator = Emulator(seed=args.seed, network=args.network, ping_interval=args.ping_interval,
                        pong_timeout=args.pong_timeout, mm_interval=args.mm_interval or None)
    url = await emulator.start(args.host, args.port)
    log.info("ready: REST %s/api/v1  streams %s", url, emulator.ws_url)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        log.info("stopped")


if __name__ == "__main__":
    main()
