"""pytest plugin, loaded with ``-p shared.pytest_eventlet`` before any installed plugin.

eventlet must patch the standard library before ``ssl`` is imported. schemathesis' pytest plugin
(an entry point, loaded before tests/conftest.py) imports requests and with it ssl; patching after
that makes every TLS connection fail with ``RecursionError`` in ``SSLContext.minimum_version``.
"""
import eventlet

eventlet.monkey_patch()
