"""Ways to damage a node's data directory, as a failing disk or a careless operator would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import plyvel

from node import codec
from node.store import keys


def _largest(chain: Path, suffix: str) -> Path:
    files = sorted(chain.glob(f"*{suffix}"), key=lambda p: p.stat().st_size)
    assert files and files[-1].stat().st_size > 0, f"no non-empty {suffix} file in {chain}"
    return files[-1]


def _manifest(chain: Path) -> Path:
    return chain / (chain / "CURRENT").read_text().strip()


def flip(path: Path, at: float = 0.5, count: int = 16) -> None:
    """Invert `count` bytes starting `at` (a fraction) of the way into the file."""
    data = bytearray(path.read_bytes())
    start = min(int(len(data) * at), max(0, len(data) - count))
    for i in range(start, min(start + count, len(data))):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path, fraction: float) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(int(size * fraction))


def _drop_head_commit(chain: Path) -> None:
    db = plyvel.DB(str(chain))
    try:
        height, _ = codec.decode(db.get(keys.META_HEAD))
        db.delete(keys.commit_key(height), sync=True)
    finally:
        db.close()


def _head_past_blocks(chain: Path) -> None:
    db = plyvel.DB(str(chain))
    try:
        height, block_hash = codec.decode(db.get(keys.META_HEAD))
        db.put(keys.META_HEAD, codec.encode([height + 5, block_hash]), sync=True)
    finally:
        db.close()


def _wal_first_record(data: Path) -> None:
    """Flip a payload byte of the first WAL record (its 8-byte header stays intact)."""
    wal = data / "consensus.wal"
    raw = bytearray(wal.read_bytes())
    assert len(raw) > 200, "the WAL needs several records for this damage"
    raw[12] ^= 0x55
    wal.write_bytes(bytes(raw))


# name -> (damage applied to HOME/data, what the check must say)
DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "table-bytes-flipped": (lambda d: flip(_largest(d / "chain", ".ldb")), "damaged"),
    "table-truncated": (lambda d: truncate(_largest(d / "chain", ".ldb"), 0.5), "damaged"),
    "log-bytes-flipped": (lambda d: flip(_largest(d / "chain", ".log"), at=0.3), "damaged"),
    "manifest-bytes-flipped": (lambda d: flip(_manifest(d / "chain"), at=0.3), "damaged"),
    "manifest-truncated": (lambda d: truncate(_manifest(d / "chain"), 0.3), "damaged"),
    "current-missing": (lambda d: (d / "chain" / "CURRENT").unlink(), "no CURRENT"),
    "current-names-no-manifest": (
        lambda d: (d / "chain" / "CURRENT").write_text("MANIFEST-999999\n"), "damaged"),
    "head-commit-deleted": (lambda d: _drop_head_commit(d / "chain"), "commit certificate"),
    "head-beyond-blocks": (lambda d: _head_past_blocks(d / "chain"), "missing"),
    "wal-record-damaged": (_wal_first_record, "consensus WAL is damaged"),
}
