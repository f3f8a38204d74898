"""`orechain` subcommands: keygen, genesis, run, devnet, submit, trace, verify, status.

Errors end the command with one line on stderr and a non-zero exit, not a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from node.cli import compliance
from node.cli.client import RpcCallError, RpcClient
from node.cli.errors import CliError
from node.crypto import KeyFileError, PrivateKey, devnet_key, load_key_file, write_key_file
from node.crypto.keys import key_file_is_sealed

DEFAULT_RPC = "http://127.0.0.1:26657/rpc"


def _read_json_arg(value: str) -> Any:
    text = Path(value[1:]).read_text() if value.startswith("@") else value
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"not valid JSON: {exc}") from None


# --- commands -----------------------------------------------------------------------

def _passphrase(confirm: bool) -> bytes:
    """ORECHAIN_KEY_PASSPHRASE, else asked on the terminal."""
    import getpass
    import os

    env = os.environ.get("ORECHAIN_KEY_PASSPHRASE")
    if env:
        return env.encode()
    if not sys.stdin.isatty():
        raise CliError("a passphrase is needed: set ORECHAIN_KEY_PASSPHRASE or run in a terminal")
    first = getpass.getpass("key passphrase: ")
    if confirm and getpass.getpass("again: ") != first:
        raise CliError("the passphrases differ")
    if len(first) < 8:
        raise CliError("use a passphrase of at least 8 characters")
    return first.encode()


def _load_signing_key(path: Path) -> PrivateKey:
    return load_key_file(path, _passphrase(False) if key_file_is_sealed(path) else None)


def cmd_keygen(args: argparse.Namespace) -> None:
    if args.devnet_org:
        key = devnet_key("orechain-devnet:" + args.devnet_org)
    elif args.devnet_node:
        key = devnet_key("orechain-devnet-node:" + args.devnet_node)
    else:
        key = PrivateKey.generate()
    passphrase = _passphrase(True) if args.encrypt else None
    write_key_file(Path(args.out), key, overwrite=args.force, passphrase=passphrase)
    print(key.public_key.hex())


def cmd_genesis(args: argparse.Namespace) -> None:
    from node.daemon.config import ConfigError, default_genesis_text, load_genesis_file

    if args.check:
        try:
            g = load_genesis_file(Path(args.check))
        except ConfigError as exc:
            raise CliError(str(exc)) from None
        print(f"ok: chain {g.chain_id}, {len(g.orgs)} orgs, {len(g.sites)} sites, "
              f"{len(g.validators.validators)} validators, {len(g.nodes)} nodes")
        return
    doc = json.loads(default_genesis_text())
    if args.validators:
        if not 1 <= args.validators <= len(doc["validators"]):
            raise CliError(f"--validators must be 1..{len(doc['validators'])}")
        doc["validators"] = doc["validators"][: args.validators]
    if args.chain_id:
        doc["chain_id"] = args.chain_id
    text = json.dumps(doc, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)


def cmd_run(args: argparse.Namespace) -> None:
    from node.consensus import WALCorruptError
    from node.daemon.config import ConfigError
    from node.daemon.logs import setup_logging
    from node.daemon.node import Node
    from node.store import StoreError
    from node.store.integrity import IntegrityError

    home = Path(args.home).resolve()
    config = _load_or_create_config(home, args)
    setup_logging(config.log_json or args.log_json, config.moniker)
    try:
        node = Node(config)
    except (ConfigError, KeyFileError, IntegrityError, StoreError, WALCorruptError) as exc:
        raise CliError(str(exc)) from None
    try:
        asyncio.run(node.run_until_signalled())
    except OSError as exc:  # a listener's port is taken, or the address is not ours
        raise CliError(f"cannot start the node: {exc.strerror or exc} (check rpc_port, "
                       f"p2p_port and the hosts in {home}/config.toml)") from None


def cmd_init(args: argparse.Namespace) -> None:
    from node.daemon.config import CONFIG_FILE

    home = Path(args.home).resolve()
    if (home / CONFIG_FILE).exists() and not args.force:
        raise CliError(f"{home / CONFIG_FILE} exists; edit it, or pass --force to rewrite it")
    config = _load_or_create_config(home, args)
    node_id = json.loads(config.key_path.read_text()).get("public_key", "?")
    print(f"wrote {home / CONFIG_FILE}; node key {config.key_path} (node id {node_id})")


def _load_or_create_config(home: Path, args: argparse.Namespace) -> Any:
    from node.daemon.config import CONFIG_FILE, ConfigError, NodeConfig

    try:
        if (home / CONFIG_FILE).exists():
            config = NodeConfig.load(home)
        else:
            config = NodeConfig(home=home)
            if not config.key_path.exists():
                write_key_file(config.key_path, PrivateKey.generate())
        overrides = {"genesis_file": args.genesis, "node_key_file": args.node_key,
                     "rpc_port": args.rpc_port, "p2p_port": args.p2p_port,
                     "moniker": args.moniker, "rpc_host": args.rpc_host,
                     "org_key_file": args.org_key, "passphrase_file": args.passphrase_file}
        for name, value in overrides.items():
            if value is not None:
                setattr(config, name, str(Path(value).resolve())
                        if name.endswith("_file") else value)
        if args.peer:
            config.peers = list(args.peer)
        if args.no_tx_relay:
            config.tx_relay = False
        if args.no_consensus_relay:
            config.consensus_relay = False
        config.save()
        config.load_genesis()
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    return config


def cmd_devnet(args: argparse.Namespace) -> None:
    from node.cli.devnet import run_devnet

    run_devnet(Path(args.home).resolve(), base_port=args.base_port, full_nodes=args.full_nodes)


def cmd_submit(args: argparse.Namespace) -> None:
    from node.cli.events import signed_event

    client = RpcClient(args.rpc)
    key = _load_signing_key(Path(args.key))
    chain_id = args.chain_id or client.call("chain_genesis")["chain_id"]
    body = _read_json_arg(args.body)
    tx = signed_event(key, chain_id, args.kind, body, args.nonce)
    result = client.call("lot_submitEvent", event=tx.to_json())
    if args.wait:
        result = _wait_final(client, result["tx_id"], args.wait)
    print(json.dumps({"tx_id": result["tx_id"], "status": result["status"],
                      **({"reason": result["reason"]} if result.get("reason") else {})}))


def _wait_final(client: RpcClient, tx_id: str, seconds: float) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + seconds
    while True:
        result = client.call("tx_get", tx_id=tx_id)
        if result["status"] != "pending" or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def cmd_trace(args: argparse.Namespace) -> None:
    from node.provenance import render

    answer = RpcClient(args.rpc).call("lot_provenance", lot_id=args.lot_id,
                                      direction=args.direction)
    if args.json:
        print(json.dumps(answer, indent=2))
    elif args.dot:
        print(render.dot(answer))
    elif args.svg:
        Path(args.svg).write_text(render.svg(answer))
        print(f"wrote {args.svg}")
    else:
        print(render.tree(answer))


def cmd_verify(args: argparse.Namespace) -> None:
    from node.daemon.config import ConfigError, load_genesis_file
    from node.verify import VerificationError, verify_provenance

    try:
        genesis = load_genesis_file(Path(args.genesis))
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    try:
        answer = json.loads(Path(args.answer).read_text())
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {args.answer}: {exc}") from None
    try:
        report = verify_provenance(answer, genesis)
    except VerificationError as exc:
        raise CliError(f"NOT VERIFIED: {exc}") from None
    print(f"verified: lot {report.lot_id}, {report.events} events in {report.blocks} blocks, "
          f"{report.lots} lots, every signature, inclusion proof and commit certificate "
          f"checked against genesis {genesis.chain_id}")


def cmd_status(args: argparse.Namespace) -> None:
    from node.cli.status import render, watch

    client = RpcClient(args.rpc)
    if args.watch:
        watch(client)
    status = client.call("node_status")
    print(json.dumps(status, indent=2) if args.json else render(status))


# --- parser -----------------------------------------------------------------------------

def _node_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home", required=True)
    p.add_argument("--genesis", help="genesis file (default: the embedded devnet genesis)")
    p.add_argument("--node-key", help="node key file (default: HOME/node.key, made if missing)")
    p.add_argument("--rpc-host")
    p.add_argument("--rpc-port", type=int)
    p.add_argument("--p2p-port", type=int)
    p.add_argument("--peer", action="append", help="host:port of a peer (repeatable)")
    p.add_argument("--moniker")
    p.add_argument("--org-key", help="org key for signing captured EPCIS events")
    p.add_argument("--passphrase-file", help="unlocks passphrase-protected key files")
    p.add_argument("--log-json", action="store_true", help="structured JSON logs")
    p.add_argument("--no-tx-relay", action="store_true",
                   help="take no events relayed by peers (tx_relay = false: a node that "
                        "never proposes, such as a mine site on a metered link)")
    p.add_argument("--no-consensus-relay", action="store_true",
                   help="take no proposals or votes from peers (consensus_relay = false: a "
                        "node that never votes and follows final blocks, such as a mine site)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="orechain", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    k = sub.add_parser("keygen", help="create an Ed25519 key file (mode 0600)")
    k.add_argument("--out", required=True)
    k.add_argument("--force", action="store_true", help="overwrite an existing file")
    k.add_argument("--encrypt", action="store_true",
                   help="seal the key under a passphrase (argon2id + secretbox)")
    g = k.add_mutually_exclusive_group()
    g.add_argument("--devnet-org", help="the well-known devnet key of this org (never production)")
    g.add_argument("--devnet-node", help="the well-known devnet key of this node name")
    k.set_defaults(func=cmd_keygen)

    ge = sub.add_parser("genesis", help="write a genesis derived from the devnet, or check one")
    ge.add_argument("--check", metavar="FILE", help="validate FILE and report the first error")
    ge.add_argument("--validators", type=int, help="keep the first N devnet validators")
    ge.add_argument("--chain-id")
    ge.add_argument("--out")
    ge.set_defaults(func=cmd_genesis)

    i = sub.add_parser("init", help="create HOME with a node key and a commented config.toml")
    r = sub.add_parser("run", help="run a node on HOME (created on first run)")
    for cmd in (i, r):
        _node_options(cmd)
    i.add_argument("--force", action="store_true", help="rewrite an existing config.toml")
    i.set_defaults(func=cmd_init)
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("devnet", help="run a local network of real node processes")
    d.add_argument("--home", required=True)
    d.add_argument("--base-port", type=int, default=26600)
    d.add_argument("--full-nodes", type=int, default=2)
    d.set_defaults(func=cmd_devnet)

    s = sub.add_parser("submit", help="sign and submit a lot event")
    s.add_argument("--rpc", default=DEFAULT_RPC)
    s.add_argument("--key", required=True, help="the signer's key file")
    s.add_argument("--kind", required=True, help="register_lot, assay, dispatch, ...")
    s.add_argument("--body", required=True, help="event body as JSON, or @file.json")
    s.add_argument("--chain-id", help="default: ask the node")
    s.add_argument("--nonce", type=int)
    s.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                   help="wait up to SECONDS for the event to be final")
    s.set_defaults(func=cmd_submit)

    t = sub.add_parser("trace", help="where did a lot come from (and where did it go)")
    t.add_argument("lot_id")
    t.add_argument("--rpc", default=DEFAULT_RPC)
    t.add_argument("--direction", default="backward", choices=["backward", "forward", "both"])
    out = t.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="the raw answer, for orechain verify")
    out.add_argument("--dot", action="store_true", help="Graphviz DOT")
    out.add_argument("--svg", metavar="FILE", help="write an SVG drawing")
    t.set_defaults(func=cmd_trace)

    v = sub.add_parser("verify", help="check a saved provenance answer offline")
    v.add_argument("answer")
    v.add_argument("--genesis", required=True)
    v.set_defaults(func=cmd_verify)

    compliance.add_parser(sub)

    st = sub.add_parser("status", help="a node's health at a glance")
    st.add_argument("--rpc", default=DEFAULT_RPC)
    st.add_argument("--json", action="store_true")
    st.add_argument("--watch", action="store_true", help="redraw every second (sync progress)")
    st.set_defaults(func=cmd_status)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CliError, KeyFileError, ConnectionError) as exc:
        print(f"orechain: {exc}", file=sys.stderr)
        return 1
    except RpcCallError as exc:
        print(f"orechain: the node refused: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
