"""Link this working tree's connector into a Hummingbot installation, so edits need no reinstall.

Hummingbot discovers connectors by scanning its own package folder ``hummingbot/connector/derivative/*/``,
so the connector must appear inside it. By default the target is the Hummingbot package importable by this
interpreter (the project's .venv); ``--hummingbot-root PATH`` targets a Hummingbot source checkout instead
(the folder holding ``hummingbot/`` and ``bin/hummingbot.py``), e.g. the one inside a Docker image.

    python scripts/dev_link.py                                # the installed package
    python scripts/dev_link.py --hummingbot-root ~/hummingbot # a source checkout
"""
import argparse
import importlib.util
import sys
from pathlib import Path

CONNECTOR_RELATIVE = Path("hummingbot", "connector", "derivative", "extended_perpetual")
SOURCE = Path(__file__).resolve().parent.parent / CONNECTOR_RELATIVE


def installed_hummingbot_root() -> Path:
    spec = importlib.util.find_spec("hummingbot")
    if spec is None or spec.origin is None:
        raise SystemExit("hummingbot is not importable by this interpreter; run scripts/setup_env.sh first")
    return Path(spec.origin).resolve().parent.parent


def link(hummingbot_root: Path, force: bool) -> Path:
    derivative_dir = hummingbot_root / CONNECTOR_RELATIVE.parent
    if not derivative_dir.is_dir():
        raise SystemExit(f"{derivative_dir} is not a Hummingbot derivative folder")
    target = hummingbot_root / CONNECTOR_RELATIVE
    if target.is_symlink():
        if target.resolve() == SOURCE:
            return target
        target.unlink()
    elif target.exists():
        if not force:
            raise SystemExit(f"{target} exists (installed copy?); pass --force to replace it with a link")
        _remove_tree(target)
    target.symlink_to(SOURCE, target_is_directory=True)
    return target


def _remove_tree(path: Path) -> None:
    for child in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        child.rmdir() if child.is_dir() and not child.is_symlink() else child.unlink()
    path.rmdir()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hummingbot-root", type=Path, help="a Hummingbot source checkout (default: installed)")
    parser.add_argument("--force", action="store_true", help="replace an installed copy of the connector")
    args = parser.parse_args(argv)
    root = args.hummingbot_root.resolve() if args.hummingbot_root else installed_hummingbot_root()
    target = link(root, args.force)
    print(f"[setup] connector linked: {target} -> {SOURCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
