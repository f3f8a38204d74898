"""Shared inputs of the EPCIS tests: GS1's example documents, the schema, devnet genesis."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from node.daemon.config import default_genesis_text
from node.epcis.directory import Directory
from node.epcis.units import load_document
from node.types.genesis import Genesis

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GS1_EXAMPLES = (REPO / ".." / "shared" / "data" / "epcis").resolve()
SCHEMA_FILE = HERE / "schema" / "EPCIS-JSON-Schema.json"


def gs1_example(name: str) -> Any:
    """One of GS1's published example documents (see SOURCES.md next to them)."""
    path = GS1_EXAMPLES / name
    if not path.is_file():
        raise FileNotFoundError(
            f"GS1 EPCIS example {name} not found at {path}: the tests expect GS1's example "
            "documents in ../shared/data/epcis/ next to the repository")
    return load_document(path.read_bytes())


@cache
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(document: Any) -> list[str]:
    """Every way `document` breaks GS1's EPCIS 2.0 JSON schema (empty if it validates)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator().iter_errors(json.loads(json.dumps(document)))]


@cache
def devnet() -> Genesis:
    return Genesis.from_json(json.loads(default_genesis_text()))


def devnet_directory() -> Directory:
    return Directory.from_genesis(devnet())
