"""node.merkle picks the compiled core or the twin, and exposes exactly the documented API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import node.merkle

API = {
    "IMPLEMENTATION",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "sha256",
    "verify_consistency",
    "verify_inclusion",
}
REPO = Path(__file__).resolve().parents[2]


def _implementation_with(env_value: str | None) -> str:
    """IMPLEMENTATION as a fresh interpreter sees it with ORECHAIN_PURE_PYTHON=env_value."""
    env = {k: v for k, v in os.environ.items() if k != "ORECHAIN_PURE_PYTHON"}
    if env_value is not None:
        env["ORECHAIN_PURE_PYTHON"] = env_value
    result = subprocess.run(
        [sys.executable, "-c", "import node.merkle; print(node.merkle.IMPLEMENTATION)"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_exports_exactly_the_api() -> None:
    assert set(node.merkle.__all__) == API
    assert all(hasattr(node.merkle, name) for name in API)


def test_both_implementations_provide_the_api(impl: ModuleType) -> None:
    assert set(dir(impl)) >= API
    assert impl.IMPLEMENTATION in {"native", "python"}


def test_pure_python_env_forces_the_twin() -> None:
    assert _implementation_with("1") == "python"


@pytest.mark.parametrize("env_value", [None, "", "0"])
def test_native_is_preferred_when_built(native: ModuleType, env_value: str | None) -> None:
    assert _implementation_with(env_value) == "native"


def test_loaded_functions_come_from_the_named_implementation(native: ModuleType) -> None:
    expected = {"native": native, "python": node.merkle._py}[node.merkle.IMPLEMENTATION]
    assert node.merkle.merkle_root is expected.merkle_root
    assert node.merkle.verify_consistency is expected.verify_consistency
