"""orechain: a permissioned proof-of-authority chain for mineral-lot provenance."""

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence

__version__ = "0.1.0"


def pure_python() -> bool:
    """Whether ORECHAIN_PURE_PYTHON asks for the Python twins instead of the compiled
    modules (read when each module that has a twin is first imported)."""
    return os.environ.get("ORECHAIN_PURE_PYTHON", "") not in ("", "0")


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Imports a node module from its .py file even where setup.py has compiled that
    file into an extension beside it (which Python would otherwise load first)."""

    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if path is None or not name.startswith(__name__ + "."):
            return None
        leaf = name.rpartition(".")[2]
        for entry in path:
            source = os.path.join(entry, leaf + ".py")
            if os.path.isfile(source):
                return importlib.util.spec_from_file_location(name, source)
        return None


if pure_python():
    sys.meta_path.insert(0, _SourceFirst())
