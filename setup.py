"""Builds node._native, the Cython + C hot path (SHA-256 and RFC 6962 Merkle trees),
node._ed25519 (many signature checks per call, without the GIL), node._aead (the
secret link's frame cipher) and node._codec (the canonical msgpack encoder), and
compiles the state machine's Python modules (see COMPILED_PYTHON).

The top-level genesis/ folder ships inside the package as node.genesis, so the
embedded default genesis is available to installed and editable copies alike.
"""

import os
from glob import glob

from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

native = Extension(
    "node._native",
    sources=[
        "native/_native.pyx",
        "native/sha256.c",
        "native/sha256_x86.c",
        "native/sha256_avx512.c",
        "native/merkle.c",
    ],
    depends=["native/sha256.h", "native/merkle.h"],
    include_dirs=["native"],
    extra_compile_args=["-O3", "-std=c11", "-Wall", "-Wextra"],
)

# Batch Ed25519 checks over the libsodium PyNaCl ships (see native/_ed25519.pyx).
ed25519 = Extension("node._ed25519", sources=["native/_ed25519.pyx"],
                    extra_compile_args=["-O3", "-Wall", "-Wextra"])

# The secret link's ChaCha20-Poly1305 frames over the same libsodium (see native/_aead.pyx).
aead = Extension("node._aead", sources=["native/_aead.pyx"],
                 extra_compile_args=["-O3", "-Wall", "-Wextra"])

# Canonical msgpack encoding in C; node.codec's Python encoder is its twin (see
# native/_codec.pyx).
codec = Extension("node._codec", sources=["native/_codec.pyx"],
                  extra_compile_args=["-O3", "-Wall", "-Wextra"])

# Block execution is a third of a network's CPU per event (docs/performance.md), so the
# state machine and the store views it reads and writes through are compiled from their
# Python source as it stands: the .py files stay the one source, and the Python
# semantics hold (annotations are not turned into C types). ORECHAIN_PURE_PYTHON=1 runs
# the source instead; tests/test_compiled_python.py holds both to the same results.
COMPILED_PYTHON = [
    *sorted(path for package in ("node/state", "node/provenance")
            for path in glob(f"{package}/*.py") if not path.endswith("__init__.py")),
    "node/store/kv.py",
    "node/store/keys.py",
]
state_machine = cythonize(COMPILED_PYTHON, language_level=3, build_dir="build/cython",
                          nthreads=os.cpu_count() or 1,
                          compiler_directives={"annotation_typing": False})

setup(
    packages=[*find_packages(include=["node", "node.*"]), "node.genesis"],
    package_dir={"node.genesis": "genesis"},
    package_data={
        "node.genesis": ["*.json"],
        "node.explorer": ["static/*.html", "static/*.css", "static/js/*.js"],
    },
    ext_modules=[*cythonize([native, ed25519, aead, codec], language_level=3), *state_machine],
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
)
