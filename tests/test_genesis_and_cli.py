"""The embedded devnet genesis, clear errors for broken genesis files, and the CLI's
one-line errors."""

import json
import subprocess
import sys

import pytest

from node.daemon.config import default_genesis
from node.types.genesis import Genesis, GenesisError
from tests.helpers import devnet_doc, node_key, org_key


def test_devnet_genesis_uses_the_documented_well_known_keys():
    g = default_genesis()
    assert len(g.validators.validators) == 4
    for org in g.orgs:
        assert org.keys == (org_key(org.id).public_key,)
    for n in g.nodes:
        assert n.node_key == node_key(n.name).public_key
    minerals = {m for s in g.sites if s.kind == "mine" for m in s.minerals}
    assert minerals == {"antimony", "copper", "rare_earth"}
    roles = {r for o in g.orgs for r in o.roles}
    assert {"mine", "transporter", "lab", "refinery", "exporter", "regulator",
            "auditor"} <= roles


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d.pop("chain_id"), "chain_id: is missing"),
    (lambda d: d["orgs"][0].update(roles=["miner"]), "orgs[0].roles"),
    (lambda d: d["sites"][0].update(org="nobody"), "sites[0].org"),
    (lambda d: d["sites"][0].update(gln="8960000000010"), "sites[0].gln"),
    (lambda d: d["sites"][1].update(gln=d["sites"][0]["gln"]),
     "sites: duplicate site GLN 8960000000016"),
    (lambda d: d["validators"][0].update(power=0), "validators[0].power"),
    (lambda d: d["validators"][0].update(node_key="xyz"), "validators[0].node_key"),
    (lambda d: d["params"].update(loss_tolerance_ppm=0.5), "floats are not allowed"),
    (lambda d: d["admin"].update(threshold=9), "admin.threshold"),
    (lambda d: d["nodes"].pop(0), "missing from the node registry"),
])
def test_broken_genesis_names_the_field(mutate, where):
    doc = devnet_doc()
    mutate(doc)
    with pytest.raises(GenesisError, match=__import__("re").escape(where)):
        Genesis.from_json(doc)


def orechain(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "node", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=60)


def test_cli_errors_are_one_line_not_a_traceback(tmp_path):
    bad = tmp_path / "genesis.json"
    doc = devnet_doc()
    doc["validators"][0]["power"] = -1
    bad.write_text(json.dumps(doc))
    result = orechain("genesis", "--check", str(bad))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "validators[0].power" in result.stderr
    assert "Traceback" not in result.stderr

    result = orechain("status", "--rpc", "http://127.0.0.1:9/rpc")
    assert result.returncode == 1 and "cannot reach the node" in result.stderr

    result = orechain("submit", "--key", str(tmp_path / "none.key"), "--kind", "assay",
                      "--body", "{}")
    assert result.returncode == 1 and "no key file" in result.stderr


def test_keygen_writes_the_devnet_key(tmp_path):
    out = tmp_path / "mine-1.key"
    result = orechain("keygen", "--devnet-org", "mine-1", "--out", str(out))
    assert result.returncode == 0
    assert result.stdout.strip() == org_key("mine-1").public_key.hex()
    result = orechain("genesis", "--check", str(tmp_path / "missing.json"))
    assert result.returncode == 1 and "does not exist" in result.stderr


def test_init_writes_a_commented_toml_config_that_loads_back(tmp_path):
    from node.daemon.config import ConfigError, NodeConfig

    home = tmp_path / "site-node"
    result = orechain("init", "--home", str(home), "--rpc-port", "27123",
                      "--peer", "127.0.0.1:26656")
    assert result.returncode == 0, result.stderr
    text = (home / "config.toml").read_text()
    assert text.count("\n# ") >= 10  # every setting is explained
    config = NodeConfig.load(home)
    assert config.rpc_port == 27123 and config.peers == ["127.0.0.1:26656"]
    assert config.key_path.exists()
    assert orechain("init", "--home", str(home)).returncode == 1

    (home / "config.toml").write_text(text + "\nrpc_prot = 1\n")
    with pytest.raises(ConfigError, match=r"unknown setting.*rpc_prot"):
        NodeConfig.load(home)
    (home / "config.toml").write_text(text.replace("rpc_port = 27123", 'rpc_port = "x"'))
    with pytest.raises(ConfigError, match="rpc_port must be int"):
        NodeConfig.load(home)


@pytest.mark.parametrize("setting", ["tx_relay", "consensus_relay"])
def test_a_node_without_relay_is_a_leaf_and_a_validator_refuses_to_be_one(tmp_path, setting):
    from node.daemon.config import NodeConfig

    flag = "--no-" + setting.replace("_", "-")
    site = tmp_path / "site-node"
    assert orechain("init", "--home", str(site), flag).returncode == 0
    config = NodeConfig.load(site)
    other = "consensus_relay" if setting == "tx_relay" else "tx_relay"
    assert getattr(config, setting) is False and getattr(config, other) is True
    assert f"{setting} = false" in (site / "config.toml").read_text()

    key = tmp_path / "validator.key"
    assert orechain("keygen", "--out", str(key), "--devnet-node", "validator-1").returncode == 0
    result = orechain("run", "--home", str(tmp_path / "validator"), "--node-key", str(key),
                      "--rpc-port", "0", "--p2p-port", "0", flag)
    assert result.returncode == 1
    assert f"{setting} = false is for nodes that never propose or vote" in result.stderr
