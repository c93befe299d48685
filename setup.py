"""Installs the Extended connector into an existing Hummingbot (20260922) environment.

``pip install --no-deps .`` (or ``pip install .``) places the package
``hummingbot.connector.derivative.extended_perpetual`` inside the installed Hummingbot tree, where
Hummingbot's connector scanner finds it. Hummingbot itself is deliberately not a requirement: its full
requirement list does not install on Python 3.11 (see README); install it first.
The local Extended emulator (``extended_emulator``) is installed alongside for offline dry runs.
"""
from setuptools import setup

setup(
    name="hummingbot-extended-perpetual",
    version="1.0.0",
    description="Hummingbot perpetual connector for Extended (Starknet), with a local Extended emulator",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=[
        "hummingbot.connector.derivative.extended_perpetual",
        "extended_emulator",
    ],
    package_data={"extended_emulator": ["ASSUMPTIONS.md", "README.md"]},
    install_requires=[
        "fast-stark-crypto==0.5.0",
        "aiohttp>=3.8.5,<3.14",
    ],
)
