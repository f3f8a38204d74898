"""The state machine's compiled copy (setup.py's COMPILED_PYTHON): built where the
native core is, left aside under ORECHAIN_PURE_PYTHON=1, and in agreement with its
Python source on every result and every byte of state."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import node.provenance
import node.state
from tests.helpers import REPO

STATE_MACHINE = [
    *(f"{package.__name__}.{info.name}" for package in (node.state, node.provenance)
      for info in pkgutil.iter_modules(package.__path__)),
    "node.store.kv",
    "node.store.keys",
]


def _compiled(name: str) -> bool:
    """Whether the build left an extension beside the module's source (which Python
    then imports, unless ORECHAIN_PURE_PYTHON=1)."""
    package, _, leaf = name.rpartition(".")
    folder = Path(importlib.import_module(package).__path__[0])
    return any((folder / (leaf + suffix)).is_file() for suffix in EXTENSION_SUFFIXES)


def _require_compiled() -> None:
    """Skip where the package was not built, and fail instead under
    ORECHAIN_REQUIRE_NATIVE=1, which .ci/run sets."""
    missing = [name for name in STATE_MACHINE if not _compiled(name)]
    if missing:
        reason = f"{', '.join(missing)} not compiled; run: pip install -e ."
        if os.environ.get("ORECHAIN_REQUIRE_NATIVE") == "1":
            pytest.fail(f"ORECHAIN_REQUIRE_NATIVE=1 but {reason}", pytrace=False)
        pytest.skip(reason)


def _env(pure_python: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ORECHAIN_PURE_PYTHON"}
    if pure_python:
        env["ORECHAIN_PURE_PYTHON"] = "1"
    return env


def _fingerprint(seed: int, *, pure_python: bool) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "tests.state_fingerprint", str(seed), "800"],
                         cwd=REPO, env=_env(pure_python), capture_output=True, text=True,
                         check=True)
    found: dict[str, object] = json.loads(out.stdout)
    return found


def _imported_files(*, pure_python: bool) -> list[str]:
    """The files a fresh interpreter imports the state machine from."""
    probe = ("import importlib, json; print(json.dumps("
             f"[importlib.import_module(n).__file__ for n in {STATE_MACHINE!r}]))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=_env(pure_python),
                         capture_output=True, text=True, check=True)
    files: list[str] = json.loads(out.stdout)
    return files


def test_nodes_run_the_compiled_state_machine() -> None:
    _require_compiled()
    files = _imported_files(pure_python=False)
    assert len(files) == len(STATE_MACHINE)
    assert not [f for f in files if f.endswith(".py")]


def test_pure_python_imports_every_state_machine_module_from_its_source() -> None:
    files = _imported_files(pure_python=True)
    assert len(files) == len(STATE_MACHINE)
    assert all(f.endswith(".py") for f in files)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_and_source_agree_on_results_and_state(seed: int) -> None:
    _require_compiled()
    compiled = _fingerprint(seed, pure_python=False)
    source = _fingerprint(seed, pure_python=True)
    assert str(compiled["applied_by"]).endswith(".so")
    assert str(source["applied_by"]).endswith(".py")
    assert compiled["events"] == source["events"]
    assert compiled["digest"] == source["digest"]
    # A history worth comparing: every kind of lot and unit event, accepted and refused.
    events = source["events"]
    assert isinstance(events, dict)
    for kind in ("register_lot", "split", "merge", "dispatch", "receive", "assay", "hold",
                 "transform", "tokenize", "transfer_units", "export"):
        assert events.get(f"{kind} accepted", 0) > 0, kind
    assert sum(n for outcome, n in events.items() if outcome.endswith("refused")) > 100


def test_the_fingerprint_sees_a_changed_history() -> None:
    """Different seeds make different histories, so equal digests above mean something."""
    assert _fingerprint(1, pure_python=True)["digest"] != \
        _fingerprint(2, pure_python=True)["digest"]
