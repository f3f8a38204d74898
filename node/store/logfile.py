"""Append-only files of checksummed records: the consensus WAL and the mempool journal.

Each record is
    4 bytes  payload length, big-endian (at most the file's limit)
    4 bytes  CRC-32 of the payload, big-endian
    payload

Appends are sequential, so a crash can tear only the last record; reading stops
before a torn one and says where the intact prefix ends, for the owner to cut the
rest off. A bad record with more data after it means the disk or someone else
damaged the file: LogCorruptError, never a silent skip.
"""

from __future__ import annotations

import struct
import zlib

_HEADER = struct.Struct(">II")


class LogCorruptError(Exception):
    """The file is damaged before its last record."""


def frame(payload: bytes, limit: int) -> bytes:
    if len(payload) > limit:
        raise ValueError(f"record of {len(payload)} bytes exceeds {limit}")
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def split(data: bytes, where: str, limit: int) -> tuple[list[tuple[int, bytes]], int]:
    """(offset, payload) of each intact record, and the length of the intact prefix."""
    records: list[tuple[int, bytes]] = []
    offset, size = 0, len(data)
    while offset < size:
        if size - offset < _HEADER.size:
            break  # torn header
        length, crc = _HEADER.unpack_from(data, offset)
        end = offset + _HEADER.size + length
        if length > limit:
            if size - offset > limit + _HEADER.size:
                raise LogCorruptError(f"{where}: impossible record length at byte {offset}")
            break  # a torn header can hold any length
        if end > size:
            break  # torn payload
        payload = data[offset + _HEADER.size:end]
        if zlib.crc32(payload) != crc:
            if end == size:
                break  # the last record was only partly written
            raise LogCorruptError(f"{where}: checksum mismatch in the record at byte "
                                  f"{offset} with {size - end} bytes after it")
        records.append((offset, payload))
        offset = end
    return records, offset
