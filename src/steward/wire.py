"""JSON on the wire: one (de)serialiser for the REST API and the remote SDK.

Entities stay plain dataclasses; Pydantic validates and dumps them here, so
the server and the client agree on every field by construction.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from steward.domain.errors import InvalidInput

if TYPE_CHECKING:
    from pydantic import TypeAdapter

T = TypeVar("T")


@cache
def _cached(tp: Any) -> TypeAdapter[Any]:
    # Pydantic loads on the first (de)serialisation, not on import: a remote client's
    # ``steward.connect(url)`` stays cheap.
    from pydantic import TypeAdapter

    return TypeAdapter(tp)


def _adapter(tp: Any) -> TypeAdapter[Any]:
    return _cached(tp)


def dump(value: Any, tp: Any = None) -> Any:
    return _adapter(tp or type(value)).dump_python(value, mode="json")


def dump_json(value: Any, tp: Any = None) -> bytes:
    return _adapter(tp or type(value)).dump_json(value)


def load(tp: type[T], data: Any, *, what: str = "request") -> T:
    from pydantic import ValidationError

    try:
        result: T = _adapter(tp).validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or what}: {err['msg']}"
            for err in exc.errors()[:10]
        )
        raise InvalidInput(f"Invalid {what}: {problems}.") from None
    return result


def load_json(tp: type[T], text: str | bytes, *, what: str = "request") -> T:
    from pydantic import ValidationError

    try:
        result: T = _adapter(tp).validate_json(text)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise InvalidInput(f"The {what} is not valid JSON.") from None
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or what}: {err['msg']}"
            for err in exc.errors()[:10]
        )
        raise InvalidInput(f"Invalid {what}: {problems}.") from None
    return result
