"""TFRecord files and protobuf messages read without TensorFlow or protobuf: just the framing and the wire format.

**TFRecord framing.** A file is a sequence of records, each::

    uint64 length (little endian) | uint32 masked CRC32C of those 8 bytes | data (length bytes)
    | uint32 masked CRC32C of the data

CRC32C is the Castagnoli CRC (reflected polynomial ``0x82F63B78``); "masked" is
``((crc >> 15) | (crc << 17)) + 0xA282EAD8`` modulo 2^32.

**Protobuf wire format.** A message is a sequence of fields ``key | value`` with ``key = field_number << 3 |
wire_type`` as a varint; wire type 0 is a varint, 1 a 64-bit little-endian value (``double``), 2 a varint length
then that many bytes (strings, sub-messages, packed values), 5 a 32-bit value. Unknown fields are skipped, as protobuf
does; the deprecated group types (3, 4) are refused.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

from lso.errors import BenchmarkFileError


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()
_MASK_DELTA = 0xA282EAD8


def crc32c(data: bytes) -> int:
    """The CRC32C (Castagnoli) of ``data`` (``crc32c(b"123456789") == 0xE3069283``); pure Python, ~10 MB/s."""
    table, crc = _TABLE, 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The masked CRC32C TFRecord stores (module docstring)."""
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def iter_tfrecords(path: str | os.PathLike[str], *, verify_data_crc: bool = False) -> Iterator[tuple[int, int, bytes]]:
    """``(record number from 1, bytes read so far, data)`` for each record of the TFRecord file ``path``.

    The CRC of every length is checked (8 bytes: cheap); the CRC of the data only with ``verify_data_crc`` (pure
    Python CRC32C runs at ~10 MB/s, so checking the 0.5 GB NB101 file adds about a minute). Raises
    ``BenchmarkFileError`` naming the record and byte offset for a missing file, a truncated record or a CRC
    mismatch.
    """
    path = Path(path)
    if not path.is_file():
        raise BenchmarkFileError(f"TFRecord file not found: {path}" if not path.exists() else f"{path} is not a file")
    with path.open("rb") as handle:
        offset, number = 0, 0
        while True:
            header = handle.read(12)
            if not header:
                return
            number += 1
            where = f"{path.name}: record {number} (byte {offset})"
            if len(header) < 12:
                raise BenchmarkFileError(f"{where}: truncated file (a record header needs 12 bytes, "
                                         f"{len(header)} left)")
            length_bytes = header[:8]
            (length,) = struct.unpack("<Q", length_bytes)
            (length_crc,) = struct.unpack("<I", header[8:])
            if masked_crc32c(length_bytes) != length_crc:
                raise BenchmarkFileError(f"{where}: the CRC of the record length fails: not a TFRecord file, or "
                                         "corrupt")
            data = handle.read(length)
            footer = handle.read(4)
            if len(data) < length or len(footer) < 4:
                raise BenchmarkFileError(f"{where}: truncated file (record of {length} bytes, "
                                         f"{len(data) + len(footer)} of {length + 4} left)")
            if verify_data_crc and masked_crc32c(data) != struct.unpack("<I", footer)[0]:
                raise BenchmarkFileError(f"{where}: the CRC of the record data fails: the file is corrupt")
            offset += 16 + length
            yield number, offset, data


# ----- protobuf wire format --------------------------------------------------------------------------------------
VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The unsigned varint at ``buf[pos:]`` and the position after it."""
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise BenchmarkFileError("protobuf message ends inside a varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            raise BenchmarkFileError("protobuf varint longer than 10 bytes")


def iter_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field number, wire type, value)`` of each field of the message ``buf``: an int for a varint, the raw
    bytes otherwise (8 for fixed64, 4 for fixed32, the payload for length-delimited)."""
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise BenchmarkFileError("protobuf field number 0 (not a protobuf message)")
        if wire == VARINT:
            value, pos = read_varint(buf, pos)
            yield number, wire, value
            continue
        if wire == LENGTH_DELIMITED:
            size, pos = read_varint(buf, pos)
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
        else:
            raise BenchmarkFileError(f"protobuf field {number} has wire type {wire}, which this reader does not take")
        if pos + size > len(buf):
            raise BenchmarkFileError(f"protobuf field {number} runs past the end of its message")
        yield number, wire, buf[pos:pos + size]
        pos += size


def as_double(number: int, wire: int, value: int | bytes) -> float:
    """A ``double`` field's value (wire type 1)."""
    if wire != FIXED64 or not isinstance(value, bytes):
        raise BenchmarkFileError(f"protobuf field {number} should be a double (wire type 1), has wire type {wire}")
    return struct.unpack("<d", value)[0]


def as_int(number: int, wire: int, value: int | bytes, bits: int = 64) -> int:
    """A signed ``int32``/``int64`` field's value (wire type 0, two's complement in 64 bits)."""
    if wire != VARINT or not isinstance(value, int):
        raise BenchmarkFileError(f"protobuf field {number} should be an integer (wire type 0), has wire type {wire}")
    value &= (1 << 64) - 1
    value = value - (1 << 64) if value >= 1 << 63 else value
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise BenchmarkFileError(f"protobuf field {number}: {value} does not fit int{bits}")
    return value


def as_message(number: int, wire: int, value: int | bytes) -> bytes:
    """A sub-message or string field's payload (wire type 2)."""
    if wire != LENGTH_DELIMITED or not isinstance(value, bytes):
        raise BenchmarkFileError(f"protobuf field {number} should be a message (wire type 2), has wire type {wire}")
    return value
