"""Chaos tests: real node processes on loopback under load, faults injected between them."""
