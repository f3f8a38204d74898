"""Write-ahead log of consensus inputs, so a restarted validator replays to the same state.

File format: node.store.logfile's checksummed records (at most MAX_RECORD bytes),
each the canonical msgpack of one input (node.consensus.records).

Only the last record can be torn by a crash (appends are sequential); on open a
torn trailing record is cut off. A bad record followed by more data means the
disk or someone else damaged the log: WALCorruptError, never a silent skip,
because skipping could drop the record of a vote we sent.

The driver appends every input before handing it to the core, and syncs when the
input is one of its own signed messages (which flushes everything before it), so
whatever the node ever broadcast is replayable. `restart(StartHeight)` begins a
new height with a fresh log (atomic replace), keeping the log short.

MemoryWAL is the simulator's twin over a MemoryWALDisk: synced bytes survive a
simulated crash; unsynced bytes survive only as a prefix chosen by the
simulator, which produces torn records just like a real power cut.
"""

from __future__ import annotations

import os
from pathlib import Path

from node.consensus.inputs import Input, StartHeight
from node.consensus.records import RecordError, decode_input, encode_input
from node.store import logfile
from node.store.files import replace_durably

MAX_RECORD = 1 << 20


class WALCorruptError(logfile.LogCorruptError):
    """The log is damaged before its last record; the node must not start on it."""


def frame(event: Input) -> bytes:
    try:
        return logfile.frame(encode_input(event), MAX_RECORD)
    except ValueError as exc:
        raise ValueError(f"consensus {exc}") from None


def parse(data: bytes, where: str = "WAL") -> tuple[list[Input], int]:
    """Decode all records; return them and the length of the intact prefix.

    Bytes after the intact prefix are a torn trailing record (the caller truncates
    them); anything damaged before the end raises WALCorruptError.
    """
    try:
        framed, good = logfile.split(data, where, MAX_RECORD)
    except logfile.LogCorruptError as exc:
        raise WALCorruptError(str(exc)) from None
    records: list[Input] = []
    for offset, payload in framed:
        try:
            records.append(decode_input(payload))
        except RecordError as exc:
            raise WALCorruptError(f"{where}: record at byte {offset}: {exc}") from None
    return records, good


def since_last_start(records: list[Input]) -> list[Input]:
    """The records of the current height: from the last StartHeight on."""
    for i in range(len(records) - 1, -1, -1):
        if isinstance(records[i], StartHeight):
            return records[i:]
    return []


class FileWAL:
    """The WAL in one file. Opening it truncates a torn tail and exposes `recovered`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Strings made once: restart runs at the start of every height.
        self._file_name = str(self.path)
        self._tmp = self._file_name + ".tmp"
        self._dir = str(self.path.parent)
        data = self.path.read_bytes() if self.path.exists() else b""
        self.recovered, good = parse(data, self._file_name)
        self.truncated_bytes = len(data) - good
        self._file = open(self.path, "ab")  # noqa: SIM115 - held open for appends
        if self.truncated_bytes:
            self._file.truncate(good)
            self.sync()

    def append(self, event: Input, sync: bool = False) -> None:
        self._file.write(frame(event))
        if sync:
            self.sync()

    def sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def restart(self, start: StartHeight) -> None:
        """Atomically replace the log by one record: the start of a new height."""
        self._file.close()
        replace_durably(self._file_name, self._tmp, self._dir, frame(start))
        self._file = open(self._file_name, "ab")  # noqa: SIM115

    def close(self) -> None:
        self._file.close()


class MemoryWALDisk:
    """What a simulated disk holds for one node's WAL across crashes."""

    def __init__(self) -> None:
        self.synced = bytearray()
        self.unsynced = bytearray()

    def power_loss(self, surviving_unsynced: int) -> None:
        """Crash: keep synced bytes and only a prefix of the unsynced ones."""
        self.synced += self.unsynced[:surviving_unsynced]
        self.unsynced = bytearray()


class MemoryWAL:
    """Same interface as FileWAL over a MemoryWALDisk."""

    def __init__(self, disk: MemoryWALDisk) -> None:
        self._disk = disk
        data = bytes(disk.synced + disk.unsynced)
        self.recovered, good = parse(data, "memory WAL")
        self.truncated_bytes = len(data) - good
        disk.synced = bytearray(data[:good])
        disk.unsynced = bytearray()

    def append(self, event: Input, sync: bool = False) -> None:
        self._disk.unsynced += frame(event)
        if sync:
            self.sync()

    def sync(self) -> None:
        self._disk.synced += self._disk.unsynced
        self._disk.unsynced = bytearray()

    def restart(self, start: StartHeight) -> None:
        self._disk.synced = bytearray(frame(start))
        self._disk.unsynced = bytearray()

    def close(self) -> None:
        """Nothing to release; unsynced bytes stay unsynced, as with a real file."""
