"""Integration tests and the fault suite: the real ExtendedPerpetualDerivative against the in-process Extended
emulator over loopback sockets (127.0.0.1 only, throw-away Stark keys).

    .venv/bin/python -m pytest test/integration -q

``harness.py`` builds one emulator + connector per test (see ``ConnectorTestCase``); ``test_order_lifecycle.py``
covers the trading paths, ``test_fault_suite.py`` every fault the emulator can inject.
"""
