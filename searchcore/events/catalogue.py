"""The documented list of event types, generated from their dataclasses.

``python -m searchcore.events.catalogue`` writes ``docs/events.md`` (a table per type: fields,
types, required or optional, meaning) and ``frontend/static/js/event_types.json`` (the same as
JSON, with one example payload per type, which the browser store's tests feed through it);
``--check`` exits 1 when either file is stale. Meanings come from each class's docstring and each
field's ``doc``; examples from each field's ``example`` (else a value of its type).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import typing
from collections.abc import Callable, Sequence
from dataclasses import Field, fields
from pathlib import Path
from typing import Any, Literal

from searchcore.events._check import allows_none, hint_text, resolved_hints
from searchcore.events.types import EVENT_CLASSES, EventData, is_optional

COMMAND = "python -m searchcore.events.catalogue"
ROOT = Path(__file__).resolve().parents[2]
_FALLBACK_EXAMPLES: dict[Any, Any] = {int: 1, float: 0.5, str: "text", bool: True, dict: {}, list: []}


def field_entry(cls: type[EventData], f: Field[Any]) -> dict[str, Any]:
    hint = resolved_hints(cls)[f.name]
    optional = is_optional(f)
    present_with = f.metadata.get("present_with")
    nullable = bool(present_with) if optional else allows_none(hint)
    return {"name": f.name, "type": hint_text(hint, drop_none=not nullable), "required": not optional,
            "nullable": nullable, "present_with": present_with, "doc": f.metadata.get("doc", "")}


def example(cls: type[EventData]) -> EventData:
    """An instance with every field set (optional ones too), checked like any payload."""
    hints = resolved_hints(cls)
    return cls(**{f.name: f.metadata.get("example", _fallback(hints[f.name])) for f in fields(cls)})


def _fallback(hint: Any) -> Any:
    for arg in typing.get_args(hint) or (hint,):
        if typing.get_origin(arg) is Literal:
            return typing.get_args(arg)[0]
        base = typing.get_origin(arg) or arg
        if base in _FALLBACK_EXAMPLES:
            return _FALLBACK_EXAMPLES[base]
    return None


def catalogue() -> list[dict[str, Any]]:
    return [{"type": type_, "class": cls.__name__, "doc": inspect.getdoc(cls) or "",
             "fields": [field_entry(cls, f) for f in fields(cls)], "example": example(cls).to_payload()}
            for type_, cls in EVENT_CLASSES.items()]


def event_types_json() -> str:
    data = {"generated_by": COMMAND, "source": "searchcore/events/types.py", "types": catalogue()}
    return json.dumps(data, indent=2) + "\n"


def markdown() -> str:
    entries = catalogue()
    lines = [
        "# Search events",
        "",
        f"<!-- Generated from searchcore/events/types.py by `{COMMAND}`; do not edit. -->",
        "",
        "Every event is `{\"seq\", \"type\", \"time\", \"payload\"}`: `seq` counts 1, 2, 3 ... per search "
        "(a resumed search continues it), `time` is Unix seconds, and `payload` holds the fields below. "
        "*Required* fields are always present (the type says whether `null` is allowed); *optional* "
        "ones only in some payloads. NaN and infinities are sent as `null` (read back as NaN where a "
        "float field allows no `null`). Each type's example payload is in "
        "`frontend/static/js/event_types.json`.",
        "",
        "| type | class | meaning |",
        "| --- | --- | --- |",
        *[f"| [`{e['type']}`](#{e['type']}) | `{e['class']}` | {_cell(e['doc'])} |" for e in entries],
    ]
    for entry in entries:
        lines += ["", f"## {entry['type']}", "", _cell(entry["doc"]), "",
                  "| field | type | required | meaning |", "| --- | --- | --- | --- |"]
        lines += [_field_row(f) for f in entry["fields"]]
    return "\n".join(lines) + "\n"


def _field_row(f: dict[str, Any]) -> str:
    needed = "yes" if f["required"] else "optional"
    if f["present_with"]:
        needed += f", with `{f['present_with']}`"
    return f"| `{f['name']}` | {_cell('`' + f['type'] + '`')} | {needed} | {_cell(f['doc'])} |"


def _cell(text: str) -> str:
    """One table cell: one line, reST double backticks as Markdown code, pipes escaped (GFM)."""
    return " ".join(text.split()).replace("``", "`").replace("|", "\\|")


OUTPUTS: dict[str, Callable[[], str]] = {
    "docs/events.md": markdown,
    "frontend/static/js/event_types.json": event_types_json,
}


def stale_outputs(root: Path = ROOT) -> list[str]:
    """The generated files whose content differs from what the dataclasses produce now."""
    stale = []
    for relative, render in OUTPUTS.items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != render():
            stale.append(relative)
    return stale


def write_outputs(root: Path = ROOT) -> list[str]:
    for relative, render in OUTPUTS.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
    return list(OUTPUTS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_outputs()
        for relative in stale:
            print(f"{relative} is stale: run `{COMMAND}`", file=sys.stderr)
        return 1 if stale else 0
    for relative in write_outputs():
        print(f"wrote {relative}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
