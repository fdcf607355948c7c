"""JSON for domain objects, so a shared cache (Redis) never has to unpickle anything.

Only the dataclasses and enums of `addon.publishing.domain` can be rebuilt; anything else in
the data is refused, so a poisoned cache entry cannot make us construct arbitrary objects.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from addon.publishing import domain

_ALLOWED = {
    name: obj
    for name, obj in vars(domain).items()
    if isinstance(obj, type)
    and obj.__module__ == domain.__name__
    and (dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum))
}


class CodecError(ValueError):
    """Cached bytes that do not describe domain objects."""


_SIMPLE = frozenset({str, int, float, bool, type(None)})  # written as they are (exact types: an enum is not)
_ENCODERS: dict[type, Callable[[Any], Any]] = {}  # by exact type, made on first meeting


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind in _SIMPLE:
        return value
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        encoder = _ENCODERS.setdefault(kind, _encoder_for(kind))
    return encoder(value)


def _encoder_for(kind: type) -> Callable[[Any], Any]:
    """How values of exactly this type are written; a type the codec cannot write raises CodecError here."""
    if dataclasses.is_dataclass(kind):
        tag, names = kind.__name__, tuple(f.name for f in dataclasses.fields(kind) if f.init)

        def dataclass_fields(value: Any) -> dict:
            out = {"@": tag}
            for name in names:
                field = getattr(value, name)
                out[name] = field if type(field) in _SIMPLE else _encode(field)
            return out

        return dataclass_fields
    if issubclass(kind, enum.Enum):
        return lambda value: {"@enum": kind.__name__, "v": value.value}
    if issubclass(kind, datetime):
        return lambda value: {"@dt": value.isoformat()}
    if issubclass(kind, date):
        return lambda value: {"@date": value.isoformat()}
    if issubclass(kind, Decimal):
        return lambda value: {"@dec": str(value)}
    if issubclass(kind, (list, tuple)):
        return lambda value: [item if type(item) in _SIMPLE else _encode(item) for item in value]
    if issubclass(kind, dict):
        return lambda value: {"@map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if issubclass(kind, (str, int, float, bool)):
        return lambda value: value
    raise CodecError(f"cannot encode {kind.__name__}")


def _tuples(items: list) -> tuple:
    """A JSON array as the domain holds sequences: tuples, at every depth."""
    return tuple(_tuples(item) if type(item) is list else item for item in items)


def _object(found: dict) -> Any:
    """One JSON object, its contents already rebuilt (json calls this innermost first)."""
    if "@" in found:
        cls = _ALLOWED.get(found.pop("@"))
        if cls is None or not dataclasses.is_dataclass(cls):
            raise CodecError("not a domain class")
        for name, value in found.items():
            if type(value) is list:
                found[name] = _tuples(value)
        return cls(**found)
    if "@enum" in found:
        cls = _ALLOWED.get(found["@enum"])
        if cls is None or not issubclass(cls, enum.Enum):
            raise CodecError(f"not a domain enum: {found['@enum']!r}")
        return cls(found["v"])
    if "@dt" in found:
        return datetime.fromisoformat(found["@dt"])
    if "@date" in found:
        return date.fromisoformat(found["@date"])
    if "@dec" in found:
        return Decimal(found["@dec"])
    if "@map" in found:
        return {
            (_tuples(k) if type(k) is list else k): (_tuples(v) if type(v) is list else v) for k, v in found["@map"]
        }
    raise CodecError("unknown tagged object")


def dumps(value: Any) -> bytes:
    return json.dumps(_encode(value), separators=(",", ":"), check_circular=False).encode("utf-8")


def loads(data: bytes) -> Any:
    try:
        found = json.loads(data, object_hook=_object)
    except (TypeError, KeyError, ValueError, ArithmeticError) as exc:  # Decimal's refusal is an ArithmeticError
        raise CodecError(str(exc)) from exc
    return _tuples(found) if type(found) is list else found
