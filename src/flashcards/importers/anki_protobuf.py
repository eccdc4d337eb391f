"""A minimal reader for protocol-buffer messages, enough for the few fields Anki packages need.

Written from the public wire-format description (varints, 64-bit, length-delimited and 32-bit
fields); it knows nothing about Anki's message definitions: the callers name the field numbers they
want. Unknown fields are skipped, which is how protobuf readers stay compatible with newer writers.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, I64, LEN, I32 = 0, 1, 2, 5


class ProtobufError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Decode the base-128 varint at ``pos``; returns ``(value, next position)``."""
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise ProtobufError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:  # a varint has at most 10 bytes
            raise ProtobufError("varint too long")


def iter_fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, object]]:
    """Yield ``(field number, wire type, value)`` for each field of a message, in order.

    The value is an int for VARINT/I64/I32 fields (fixed-width ones as unsigned little-endian) and a
    bytes object for LEN fields (strings, sub-messages, packed repeated fields).
    """
    buf = memoryview(buf)
    pos = 0
    end = len(buf)
    while pos < end:
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == VARINT:
            value, pos = read_varint(buf, pos)
        elif wire == LEN:
            size, pos = read_varint(buf, pos)
            if pos + size > end:
                raise ProtobufError("truncated length-delimited field")
            value = bytes(buf[pos : pos + size])
            pos += size
        elif wire == I64:
            if pos + 8 > end:
                raise ProtobufError("truncated 64-bit field")
            value = int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == I32:
            if pos + 4 > end:
                raise ProtobufError("truncated 32-bit field")
            value = int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:  # groups (3, 4) are long deprecated and never written by Anki
            raise ProtobufError(f"unsupported wire type {wire}")
        yield number, wire, value


class Message:
    """A decoded message: field number -> list of ``(wire type, raw value)`` in order of appearance.

    Accessors turn raw values into the type the caller asks for; a missing field gives the protobuf
    default (0, "", empty list), as proto3 omits fields that hold their default.
    """

    __slots__ = ("_fields",)

    def __init__(self, buf: bytes | memoryview | None):
        fields: dict[int, list[tuple[int, object]]] = {}
        if buf:
            for number, wire, value in iter_fields(buf):
                fields.setdefault(number, []).append((wire, value))
        self._fields = fields

    def has(self, number: int) -> bool:
        """Whether the field appears at all."""
        return number in self._fields

    def _last(self, number: int) -> tuple[int, object] | None:
        values = self._fields.get(number)
        return values[-1] if values else None  # protobuf: the last occurrence of a scalar wins

    def uint(self, number: int, default: int = 0) -> int:
        """An unsigned integer field (uint32/uint64/enum/bool)."""
        item = self._last(number)
        if item is None:
            return default
        wire, value = item
        if wire not in (VARINT, I32, I64):
            raise ProtobufError(f"field {number} is not an integer")
        return value  # type: ignore[return-value]

    def int(self, number: int, default: int = 0) -> int:
        """A signed int32/int64 field (two's complement varint)."""
        value = self.uint(number, default)
        return value - (1 << 64) if value >= 1 << 63 else value

    def bool(self, number: int, default: bool = False) -> bool:
        """A bool field."""
        return bool(self.uint(number, int(default)))

    def float(self, number: int, default: float = 0.0) -> float:
        """A 32-bit float field."""
        item = self._last(number)
        if item is None:
            return default
        wire, value = item
        if wire != I32:
            raise ProtobufError(f"field {number} is not a 32-bit float")
        return struct.unpack("<f", value.to_bytes(4, "little"))[0]  # type: ignore[union-attr]

    def bytes(self, number: int, default: bytes = b"") -> bytes:
        """A bytes / sub-message field."""
        item = self._last(number)
        if item is None:
            return default
        wire, value = item
        if wire != LEN:
            raise ProtobufError(f"field {number} is not length-delimited")
        return value  # type: ignore[return-value]

    def str(self, number: int, default: str = "") -> str:
        """A UTF-8 string field."""
        raw = self.bytes(number, None)  # type: ignore[arg-type]
        if raw is None:
            return default
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtobufError(f"field {number} is not valid UTF-8") from e

    def message(self, number: int) -> Message | None:
        """A sub-message field, or None when absent."""
        raw = self.bytes(number, None)  # type: ignore[arg-type]
        return None if raw is None else Message(raw)

    def messages(self, number: int) -> list[Message]:
        """A repeated sub-message field."""
        out = []
        for wire, value in self._fields.get(number, ()):
            if wire != LEN:
                raise ProtobufError(f"field {number} is not length-delimited")
            out.append(Message(value))  # type: ignore[arg-type]
        return out

    def floats(self, number: int) -> list[float]:
        """A repeated float field, packed (proto3's default) or not."""
        out: list[float] = []
        for wire, value in self._fields.get(number, ()):
            if wire == LEN:
                if len(value) % 4:  # type: ignore[arg-type]
                    raise ProtobufError(f"packed floats in field {number} have a partial value")
                out.extend(struct.unpack(f"<{len(value) // 4}f", value))  # type: ignore[arg-type]
            elif wire == I32:
                out.append(struct.unpack("<f", value.to_bytes(4, "little"))[0])  # type: ignore[union-attr]
            else:
                raise ProtobufError(f"field {number} is not a float")
        return out
