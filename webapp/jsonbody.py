"""Reading a JSON request body without letting its shape cost the server.

``json.loads`` alone turns a body nested 100,000 deep into a ``RecursionError`` and a 5,000-digit
integer into a ``ValueError`` (Python's 4,300-digit limit): both were HTML 500s. Here every such
body is a ``JsonBodyError`` with a message the client can act on, nesting is capped at
``MAX_DEPTH`` (no setting we read goes deeper than a few levels), and integers are kept within
what a float can hold, so later ``float(x)`` never overflows.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
MAX_INT_DIGITS = 300  # float(10**308) still works; 10**309 overflows


class JsonBodyError(ValueError):
    """A body that is not JSON we read; the message is for the client."""


def parse_json_body(raw: bytes, empty: Any = None) -> Any:
    """The parsed body (``empty`` for no body); raises ``JsonBodyError`` for anything else."""
    if not raw:
        return empty
    try:
        value = json.loads(raw, parse_int=_bounded_int, parse_constant=_no_constant)
    except RecursionError:
        raise JsonBodyError(f"The body is nested too deeply (at most {MAX_DEPTH} levels).") from None
    except UnicodeDecodeError as exc:
        raise JsonBodyError(f"The body is not UTF-8 text: {exc.reason}.") from None
    except JsonBodyError:
        raise
    except ValueError as exc:  # json.JSONDecodeError included
        raise JsonBodyError(f"The body is not valid JSON: {exc}") from None
    if _depth(value) > MAX_DEPTH:
        raise JsonBodyError(f"The body is nested too deeply (at most {MAX_DEPTH} levels).")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonBodyError(f"A number in the body has more than {MAX_INT_DIGITS} digits.")
    return int(text)


def _no_constant(name: str) -> Any:
    raise JsonBodyError(f"{name} is not a JSON number.")


def _depth(value: Any) -> int:
    """Nesting depth of lists/objects, iteratively (a recursive walk would hit the limit it checks)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest
