"""Declared, validated data: the base of every model read from a file or a request, and one
way of turning a validation error into a one-line message that names the bad value."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

NAME_PATTERN = r"^[a-z0-9_]{1,40}$"


def _plain_text(value: str) -> str:
    """Text a file can hold: encodable as UTF-8 (no lone surrogates), no control characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains characters that are not valid Unicode text") from None
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        raise ValueError("contains control characters")
    return value


# A string setting or label: checked as above (length limits are set per field).
Text = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f-\x9f]*$"),
                 AfterValidator(_plain_text)]


class StrictModel(BaseModel):
    """Unknown keys rejected, no NaN or infinity, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _where(loc: tuple[Any, ...]) -> str:
    parts = []
    for part in loc:
        parts.append(f"[{part + 1}]" if isinstance(part, int) else f".{part}")
    return "".join(parts).lstrip(".")


def explain(error: Any) -> str:
    """One pydantic error as "name: what is wrong, got value"."""
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    name = _where(loc)
    if kind == "extra_forbidden":
        parent = _where(loc[:-1]) or "top level"
        return f"unknown key(s) in [{parent}]: {loc[-1]}"
    if kind == "missing":
        return f"{name}: missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "").replace("'", "")
        return f"{name}: {value!r} is not one of {expected.replace(' or ', ', ')}"
    if kind in ("value_error", "assertion_error"):
        message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return f"{name}: {message}" if name else message
    if kind == "string_pattern_mismatch" and "\\x00" in str(error.get("ctx", {})):
        return f"{name}: {_short(value)} contains control characters"
    if kind == "string_pattern_mismatch":
        return f"{name}: {_short(value)} does not have the expected form"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        expected = {"int": "whole number", "str": "text", "dict": "table", "model": "table",
                    "list": "list", "bool": "bool", "float": "float"}.get(
            kind.split("_")[0], kind.split("_")[0])
        return f"{name}: expected a {expected}, got {_short(value)}"
    return f"{name}: {_short(value)} is invalid ({error['msg'].lower()})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def unknown_name(kind: str, name: str, known: list[str]) -> str:
    """"unknown exercise 'chin_tuk' (did you mean chin_tuck?); known: ..." (one line)."""
    import difflib

    close = [k for k in known if name and k.startswith(name)] or difflib.get_close_matches(
        name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown {kind} {name!r}{hint}; known: {', '.join(known)}"


def first_error(exc: ValidationError) -> str:
    return explain(exc.errors()[0])
