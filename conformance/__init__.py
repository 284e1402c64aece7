"""Conformance of csp11 with a running CryptoAPI (Wine): see conformance/harness.py."""
