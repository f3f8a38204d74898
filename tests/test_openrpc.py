"""The OpenRPC document served by rpc.discover validates against the OpenRPC meta-schema.

The meta-schema is taken from its published npm package (@open-rpc/meta-schema), the
form in which the OpenRPC project distributes it, and read with Node.js.
"""

import json
import subprocess
import tarfile

import jsonschema
import pytest
import referencing
import referencing.jsonschema

from node.rpc.errors import APPLICATION_ERRORS
from node.rpc.methods import RpcApi
from node.rpc.openrpc import openrpc_document

META_SCHEMA_PACKAGE = "@open-rpc/meta-schema@1.14.9"


@pytest.fixture(scope="session")
def meta_schema(tmp_path_factory):
    where = tmp_path_factory.mktemp("openrpc")
    subprocess.run(["npm", "pack", META_SCHEMA_PACKAGE, "--silent"], cwd=where, check=True,
                   capture_output=True, timeout=180)
    (archive,) = where.glob("*.tgz")
    with tarfile.open(archive) as tar:
        tar.extractall(where, filter="data")
    printed = subprocess.run(
        ["node", "-e", "console.log(JSON.stringify(require('./package').openrpcDocument))"],
        cwd=where, check=True, capture_output=True, text=True, timeout=60)
    return json.loads(printed.stdout)


def validator(meta_schema) -> jsonschema.Draft7Validator:
    # The OpenRPC meta-schema describes each method's JSON Schemas by reference to the
    # draft-07 meta-schema, published at meta.json-schema.tools; jsonschema ships it.
    draft7 = referencing.jsonschema.DRAFT7.create_resource(jsonschema.Draft7Validator.META_SCHEMA)
    registry = referencing.Registry().with_resources(
        [("https://meta.json-schema.tools", draft7), ("https://meta.json-schema.tools/", draft7)])
    return jsonschema.Draft7Validator(meta_schema, registry=registry)


def test_document_validates_against_the_meta_schema(meta_schema):
    validator(meta_schema).validate(openrpc_document())


@pytest.mark.parametrize("breakage", [
    lambda d: d["methods"][0].pop("params"),
    lambda d: d["methods"][1].update(paramStructure="by-guess"),
    lambda d: d["methods"][2]["params"][0].update(schema={"type": "not-a-type"}),
])
def test_meta_schema_catches_a_broken_document(meta_schema, breakage):
    doc = openrpc_document()
    breakage(doc)
    with pytest.raises(jsonschema.ValidationError):
        validator(meta_schema).validate(doc)


def test_every_served_method_is_described_with_its_errors():
    served = set(RpcApi(None, {}).handlers())  # type: ignore[arg-type]
    doc = openrpc_document()
    assert {m["name"] for m in doc["methods"]} == served
    for method in doc["methods"]:
        codes = {e["code"] for e in method["errors"]}
        assert set(APPLICATION_ERRORS) <= codes
