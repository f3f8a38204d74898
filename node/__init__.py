"""orechain: a permissioned proof-of-authority chain for mineral-lot provenance."""

import os

__version__ = "0.1.0"


def pure_python() -> bool:
    """Whether ORECHAIN_PURE_PYTHON asks for the Python twins instead of the compiled
    modules (read when each module that has a twin is first imported)."""
    return os.environ.get("ORECHAIN_PURE_PYTHON", "") not in ("", "0")
