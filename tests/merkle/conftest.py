"""Fixtures for the node.merkle tests: every test runs against both implementations.

`impl` is the twin (node.merkle._py) and then the compiled core (node._native).
When node._native is not built its tests skip, unless ORECHAIN_REQUIRE_NATIVE=1
(as in CI), where they fail instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from node.merkle import _py
from tests.helpers import native_module


@pytest.fixture(scope="session", params=["python", "native"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    """Each implementation of the node.merkle API in turn."""
    return _py if request.param == "python" else native_module("_native")


@pytest.fixture(scope="session")
def native() -> ModuleType:
    return native_module("_native")


@pytest.fixture(scope="session")
def twin() -> ModuleType:
    return _py


# (allow SHA-NI, allow AVX-512) -> the SHA-256 code node._native then runs.
BACKENDS = {
    (False, False): "portable",
    (True, False): "sha-ni",
    (False, True): "avx512",
    (True, True): "sha-ni+avx512",
}


@pytest.fixture(params=list(BACKENDS), ids=list(BACKENDS.values()))
def backend(request: pytest.FixtureRequest, native: ModuleType) -> Iterator[str]:
    """node._native restricted to one SHA-256 code path; skips paths this CPU lacks."""
    shani, avx512 = request.param
    chosen = native._select_sha256(shani, avx512)
    try:
        if chosen != BACKENDS[request.param]:
            pytest.skip(f"this CPU has no {BACKENDS[request.param]} (runs {chosen})")
        yield chosen
    finally:
        native._select_sha256()
