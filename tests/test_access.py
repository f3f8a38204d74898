"""Access control: sealed key files, bearer tokens for remote writes, rate limits."""

import json
import stat

import pytest

from node.cli.client import RpcCallError
from node.crypto import KeyFileError, PrivateKey, load_key_file, write_key_file
from node.crypto.keys import key_file_is_sealed
from node.crypto.keystore import open_seed, seal_seed
from node.daemon.config import ConfigError, NodeConfig
from node.rpc.access import AccessPolicy, RateLimiter, is_loopback
from node.rpc.errors import NOT_ACCEPTING
from tests.helpers import NodeProcess, devnet_doc, event

FAST = {"opslimit": 2, "memlimit": 8 * 1024 * 1024}


def test_sealed_key_file_round_trip_and_failures(tmp_path, monkeypatch):
    import node.crypto.keystore as ks

    monkeypatch.setattr(ks, "OPSLIMIT", FAST["opslimit"])
    monkeypatch.setattr(ks, "MEMLIMIT", FAST["memlimit"])
    key = PrivateKey.generate()
    path = tmp_path / "org.key"
    write_key_file(path, key, passphrase=b"correct horse")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_file_is_sealed(path)
    assert key.seed.hex() not in path.read_text()
    assert load_key_file(path, b"correct horse") == key
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        load_key_file(path, b"wrong horse")
    with pytest.raises(KeyFileError, match="passphrase-protected"):
        load_key_file(path)
    doc = json.loads(path.read_text())
    sealed = bytearray(bytes.fromhex(doc["sealed_seed"]))
    sealed[-1] ^= 1
    doc["sealed_seed"] = sealed.hex()
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyFileError, match="altered"):
        load_key_file(path, b"correct horse")


def test_key_derivation_settings_from_a_file_are_capped():
    doc = seal_seed(b"\x01" * 32, b"pw", **FAST)
    doc["memlimit"] = 1 << 40
    with pytest.raises(ValueError, match="excessive"):
        open_seed(doc, b"pw")


def test_remote_writes_need_the_bearer_token():
    limiter = RateLimiter(0, 0, lambda: 0.0)
    with_token = AccessPolicy("s3cret-token", limiter)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("10.1.2.3")
    assert with_token.may_write("127.0.0.1", None)
    assert not with_token.may_write("10.1.2.3", None)
    assert not with_token.may_write("10.1.2.3", "Bearer wrong")
    assert not with_token.may_write("10.1.2.3", "s3cret-token")
    assert with_token.may_write("10.1.2.3", "Bearer s3cret-token")
    assert not AccessPolicy("", limiter).may_write("10.1.2.3", "Bearer ")


def test_rate_limiter_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(10, 20, lambda: now[0])
    assert limiter.allow("a", 20)
    assert not limiter.allow("a")
    assert limiter.allow("b")  # buckets are per client
    now[0] = 0.5
    assert limiter.allow("a", 5)
    assert not limiter.allow("a", 1)


def test_daemon_answers_429_with_a_json_rpc_error_over_its_limit(tmp_path):
    genesis = tmp_path / "genesis.json"
    genesis.write_text(json.dumps(devnet_doc(validators=1)))
    node = NodeProcess(tmp_path / "v1", genesis, "validator-1").start()
    try:
        node.stop()
        config = NodeConfig.load(tmp_path / "v1")
        config.rpc_rate_per_s, config.rpc_burst = 5, 5
        config.save()
        node.start()
        import urllib.error
        import urllib.request

        codes = []
        for _ in range(12):
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "chain_head"}).encode()
            req = urllib.request.Request(node.rpc.url, data=body, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:
                    codes.append(resp.status)
            except urllib.error.HTTPError as exc:
                codes.append(exc.code)
                assert json.loads(exc.read())["error"]["code"] == -32014
        assert 200 in codes and 429 in codes
    finally:
        node.stop()


def _lot(i: int) -> dict:
    return {"lot_id": f"PK-SB-2026-{i:04d}", "mineral": "antimony", "form": "ore",
            "mass_g": 500_000 + i, "site_id": "mine-2-pit-1",
            "extracted_at_ms": 1_795_300_000_000 + i}


def test_past_submit_max_pending_new_events_are_refused_as_busy(tmp_path):
    genesis = tmp_path / "genesis.json"
    genesis.write_text(json.dumps(devnet_doc()))  # one of four validators: no block is final
    node = NodeProcess(tmp_path / "v1", genesis, "validator-1").start()
    try:
        node.stop()
        config = NodeConfig.load(tmp_path / "v1")
        config.submit_max_pending = 3
        config.save()
        node.start()
        txs = [event("mine-2", "register_lot", _lot(i), nonce=i + 1) for i in range(5)]
        for tx in txs[:3]:
            assert node.rpc.call("lot_submitEvent", event=tx.to_json())["status"] == "pending"
        with pytest.raises(RpcCallError, match="busy: 3 events wait") as refused:
            node.rpc.call("lot_submitEvent", event=txs[3].to_json())
        assert refused.value.code == NOT_ACCEPTING
        # An event already taken is answered as before (a client's retry is idempotent).
        assert node.rpc.call("lot_submitEvent", event=txs[0].to_json())["status"] == "pending"
        with pytest.raises(RpcCallError, match="not known to this node"):
            node.rpc.call("tx_get", tx_id=txs[3].tx_id.hex())     # refused: nothing kept
        assert node.rpc.call("node_status")["mempool_size"] == 3
    finally:
        node.stop()


def test_a_negative_limit_in_config_is_refused(tmp_path):
    NodeConfig(home=tmp_path).save()
    text = (tmp_path / "config.toml").read_text()
    (tmp_path / "config.toml").write_text(
        text.replace("submit_max_pending = 0", "submit_max_pending = -1"))
    with pytest.raises(ConfigError, match="submit_max_pending must not be negative"):
        NodeConfig.load(tmp_path)
