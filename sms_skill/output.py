"""Prints results: JSON or a table on stdout, after an optional JMESPath query."""

from __future__ import annotations

import sys
from typing import Any

from sms_skill.errors import InputError

FORMATS = ("auto", "json", "table")


def compile_query(expression: str | None) -> Any:
    """Checked before any aliyun call, so a typo in --query costs nothing."""
    if not expression:
        return None
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        reason = str(exc).splitlines()[0].rstrip(":")
        raise InputError("--query", f"{expression!r} is not a valid JMESPath expression "
                                    f"({reason})") from exc


def choose_format(fmt: str, stream=None) -> str:
    """``auto`` is a table on a terminal and JSON otherwise."""
    if fmt != "auto":
        return fmt
    stream = stream or sys.stdout
    return "table" if stream.isatty() else "json"


def to_json(data: object) -> str:
    import json  # here, not at the top: --help need not load it

    return json.dumps(data, ensure_ascii=False, indent=2)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
        return ", ".join(f"{key}: {_cell(v)}" for key, v in value.items())
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    from unicodedata import east_asian_width

    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(h), *(_width(r[i]) for r in rows)) if rows else _width(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def to_table(data: object, rows_path: str | None = None,
             columns: list[str] | None = None) -> str:
    """A list of objects as columns (only ``columns`` when given); an object as key/value
    lines, with its row list (when the command names one) as columns below."""
    if isinstance(data, list) and all(isinstance(item, dict) for item in data) and data:
        header: list[str] = list(columns or [])
        if not columns:
            for item in data:
                header += [key for key in item if key not in header]
        if "Index" in header:  # numbered candidates: the number first, for picking
            header.insert(0, header.pop(header.index("Index")))
        return _grid(header, [[_cell(item.get(key)) for key in header] for item in data])
    if isinstance(data, dict):
        rows = None
        if rows_path:
            import jmespath

            rows = jmespath.search(rows_path, data)
        scalars = [[key, _cell(value)] for key, value in data.items()
                   if rows is None or not isinstance(value, (dict, list))]
        parts = [_grid(["Field", "Value"], scalars)] if scalars else []
        if isinstance(rows, list):
            parts.append(to_table(rows, columns=columns) if rows else "(no rows)")
        return "\n\n".join(parts)
    if isinstance(data, list):
        return "\n".join(_cell(item) for item in data) if data else "(no rows)"
    return _cell(data)


def dry_run(commands: list[list[str]], fmt: str) -> str:
    """What a dry run would call: shell-quoted lines in a table format, else one JSON
    document with each command as a line and as its argv. (--query is for the result a
    real run prints, so it does not apply here.)"""
    from sms_skill.builder import shell_line

    lines = [shell_line(argv) for argv in commands]
    if choose_format(fmt) == "table":
        return "\n".join(lines) or "(no commands)"
    return to_json({"dry_run": True, "commands": lines, "argv": commands})


def render(data: object, fmt: str, query: Any = None, rows_path: str | None = None,
           mask_field: str | None = None, columns: list[str] | None = None,
           mask_json: bool = False) -> str:
    """The text for stdout. ``mask_field`` is masked in tables, and in JSON too with
    ``mask_json``."""
    table = choose_format(fmt) == "table"
    if mask_field and (table or mask_json):
        from sms_skill.validation import mask_fields

        data = mask_fields(data, {mask_field})
    if query is not None:
        data = query.search(data)
        rows_path = None
    if table:
        return to_table(data, rows_path, None if query is not None else columns)
    return to_json(data)
