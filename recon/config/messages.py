"""Turn YAML and pydantic problems into messages a finance user can act on.

Every problem in a file is collected and reported at once, each naming the file, the key path and
the bad value, so a user fixes a rule file in one pass instead of one error per run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from recon.config.yaml_safe import load_yaml_file

_EXPECTED = {
    "float_parsing": "a number such as 5",
    "int_parsing": "a whole number such as 30",
    "bool_parsing": "true or false",
    "date_from_datetime_parsing": "a date such as 2026-10-31",
    "date_parsing": "a date such as 2026-10-31",
    "string_type": "text",
    "dict_type": "a mapping of keys to values",
    "list_type": "a list",
    "tuple_type": "a list",
    "missing": "a value (it is required)",
    "extra_forbidden": "nothing here: this key is not known (check its spelling)",
}


def key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _value(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, dict):
        return "a mapping"
    return repr(v)


def describe(file: str | Path, exc: ValidationError) -> str:
    """One line per problem: ``file: key is "value" — expected ...``."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if p not in ("function-after", "function-before"))
        path = key_path(loc)
        kind = err["type"]
        if kind == "missing":
            lines.append(f"{file}: {path} is missing — it is required")
        elif kind == "extra_forbidden":
            lines.append(f"{file}: {path} is not a known setting (check its spelling)")
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            lines.append(f"{file}: {path} is {_value(err['input'])} — expected one of {expected}")
        elif kind in _EXPECTED:
            lines.append(f"{file}: {path} is {_value(err['input'])} — expected {_EXPECTED[kind]}")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            where = f"{path}: " if loc else ""
            lines.append(f"{file}: {where}{msg}")
    return "\n".join(lines)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, turning syntax errors into a ConfigError with line and column.

    Oversized files and alias bombs are refused (see :mod:`recon.config.yaml_safe`).
    """
    return load_yaml_file(path)
