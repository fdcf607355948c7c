"""JSON for domain objects, so a shared cache (Redis) never has to unpickle anything.

Only the dataclasses and enums of `addon.publishing.domain` can be rebuilt; anything else in
the data is refused, so a poisoned cache entry cannot make us construct arbitrary objects.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import date, datetime
from decimal import Decimal

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


_INIT_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's init fields, looked up once per class


def _init_fields(cls: type) -> tuple[str, ...] | None:
    """The init fields of a dataclass `cls` (None when it is not one); `dataclasses.fields` costs a scan per call."""
    found = _INIT_FIELDS.get(cls)
    if found is None:
        if not dataclasses.is_dataclass(cls):
            return None
        found = _INIT_FIELDS.setdefault(cls, tuple(f.name for f in dataclasses.fields(cls) if f.init))
    return found


def _encode(value):
    if value is None or type(value) in (str, int, float, bool):
        return value
    names = _init_fields(type(value))
    if names is not None:
        return {"@": type(value).__name__, **{name: _encode(getattr(value, name)) for name in names}}
    if isinstance(value, enum.Enum):
        return {"@enum": type(value).__name__, "v": value.value}
    if isinstance(value, datetime):
        return {"@dt": value.isoformat()}
    if isinstance(value, date):
        return {"@date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"@dec": str(value)}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"@map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise CodecError(f"cannot encode {type(value).__name__}")


def _decode(value):
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if not isinstance(value, dict):
        return value
    if "@" in value:
        cls = _ALLOWED.get(value["@"])
        if cls is None or not dataclasses.is_dataclass(cls):
            raise CodecError(f"not a domain class: {value['@']!r}")
        return cls(**{k: _decode(v) for k, v in value.items() if k != "@"})
    if "@enum" in value:
        cls = _ALLOWED.get(value["@enum"])
        if cls is None or not issubclass(cls, enum.Enum):
            raise CodecError(f"not a domain enum: {value['@enum']!r}")
        return cls(value["v"])
    if "@dt" in value:
        return datetime.fromisoformat(value["@dt"])
    if "@date" in value:
        return date.fromisoformat(value["@date"])
    if "@dec" in value:
        return Decimal(value["@dec"])
    if "@map" in value:
        return {_decode(k): _decode(v) for k, v in value["@map"]}
    raise CodecError("unknown tagged object")


def dumps(value) -> bytes:
    return json.dumps(_encode(value), separators=(",", ":")).encode("utf-8")


def loads(data: bytes):
    try:
        return _decode(json.loads(data))
    except (TypeError, KeyError, ValueError) as exc:
        raise CodecError(str(exc)) from exc
