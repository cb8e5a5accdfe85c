"""Typed reads of JSON values: a field of the wrong type rejects its entry, naming the field.

JSON from an API is whatever the other side sent: a title may be null, a number or a list,
authors one string, an item a bare string. The JSON parsers read every field through these
helpers, which raise `EntryError` saying which field held what, so that one entry is rejected
with that reason and the rest of the document goes on (EntryError lives in records.py,
shared with the XML parser). Nesting too deep for the decoder is a
document-level `ParseError`, not a RecursionError.
"""

import json
from collections.abc import Callable, Iterable
from typing import Any

from .records import EntryError, Parsed, ParseError, Record, check_entries


def load_json(text: str | bytes) -> Any:
    """`json.loads`, with nesting too deep to decode reported as a ParseError (ValueError passes)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ParseError("The JSON is nested too deeply to read") from None


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "text" if isinstance(value, str) else type(value).__name__


def text(item: dict[str, Any], name: str) -> str:
    """The string at `item[name]`; "" when missing or null."""
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise EntryError(f"`{name}` is {kind_of(value)}, not text")
    return value


def obj(item: dict[str, Any], name: str) -> dict[str, Any]:
    """The object at `item[name]`; {} when missing or null."""
    value = item.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EntryError(f"`{name}` is {kind_of(value)}, not an object")
    return value


def array(item: dict[str, Any], name: str) -> list[Any]:
    """The list at `item[name]`; [] when missing or null."""
    value = item.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise EntryError(f"`{name}` is {kind_of(value)}, not a list")
    return value


def strings(item: dict[str, Any], name: str) -> list[str]:
    """A list of strings at `item[name]` (categories, fields of study)."""
    values = array(item, name)
    if not all(isinstance(value, str) for value in values):
        raise EntryError(f"`{name}` holds something other than text")
    return values


def names(item: dict[str, Any], name: str) -> list[str]:
    """Author names from a list of {"name": ...} objects (or of plain strings)."""
    found = []
    for author in array(item, name):
        value = author.get("name") if isinstance(author, dict) else author
        if value is None:
            continue
        if not isinstance(value, str):
            raise EntryError(f"`{name}` holds {kind_of(value)} where a name should be")
        found.append(value)
    return found


def integer(item: dict[str, Any], name: str) -> int | None:
    """A whole number (upvotes, a year) that a database integer holds, or None for anything else:
    a count is never worth an entry, and 10**30 upvotes must not fail the whole batch's insert."""
    value = item.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and -(2**31) < value < 2**31:
        return value
    return None


def read_items(
    parsed: Parsed,
    items: Iterable[Any],
    build: Callable[[dict[str, Any], int], Record],
    label: Callable[[dict[str, Any], int], str],
) -> Parsed:
    """`build(item, position)` for each item into `parsed`; an EntryError rejects that item only."""
    items = list(items)
    check_entries(len(items))
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            parsed.reject(f"item {position}", f"The item is {kind_of(item)}, not an object")
            continue
        try:
            parsed.records.append(build(item, position))
        except EntryError as exc:
            parsed.reject(label(item, position), str(exc))
        except (TypeError, AttributeError, ValueError) as exc:  # a shape no accessor foresaw
            parsed.reject(label(item, position), f"The entry could not be read ({type(exc).__name__})")
    return parsed


def item_label(id_field: str) -> Callable[[dict[str, Any], int], str]:
    """'item 3 (2401.00001)': where an entry is, by position and the id it gives, if any."""

    def label(item: dict[str, Any], position: int) -> str:
        value = item.get(id_field)
        return f"item {position} ({str(value)[:80] if isinstance(value, (str, int)) else 'no id'})"

    return label
