"""A stateful fake of the Google endpoints namcoso (and naive gspread) call, for ``responses``.

Spreadsheets live in memory as tabs of cells; ``spreadsheets.batchUpdate`` really applies
``addSheet``/``updateSheetProperties``/``updateCells``/``repeatCell``/
``updateDimensionProperties``, all-or-nothing, and bumps the Drive ``version``. Sharing
is modelled (not shared → 403 on Sheets, absent from Drive), faults can be injected
(Google's real error bodies, timeouts, dropped connections), and **every request is
checked against the discovery documents shipped in google-api-python-client**: the
method path, each query parameter (and its enum), each body field recursively, and each
``fields`` mask against the method's response schema. Anything off is recorded in
``violations`` (the ``running_fake`` context manager fails the test on it).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import googleapiclient
import requests
import responses

DISCOVERY_DIR = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FOLDER_MIME = "application/vnd.google-apps.folder"
EPOCH = datetime(1899, 12, 30)

# -- Google's error bodies (as recorded in gspread's cassettes and Google's docs) ------
NOT_FOUND = {
    "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
}
PERMISSION_DENIED = {
    "error": {
        "code": 403,
        "message": "The caller does not have permission",
        "status": "PERMISSION_DENIED",
    }
}
RESOURCE_EXHAUSTED = {
    "error": {
        "code": 429,
        "message": "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per "
        "minute per user' of service 'sheets.googleapis.com' for consumer "
        "'project_number:123456789012'.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {
                    "quota_metric": "sheets.googleapis.com/read_requests",
                    "quota_limit": "ReadRequestsPerMinutePerUser",
                    "service": "sheets.googleapis.com",
                    "consumer": "projects/123456789012",
                },
            }
        ],
    }
}
RATE_LIMIT_403 = {
    "error": {
        "errors": [
            {
                "domain": "usageLimits",
                "reason": "rateLimitExceeded",
                "message": "Rate Limit Exceeded",
            }
        ],
        "code": 403,
        "message": "Rate Limit Exceeded",
    }
}
USER_RATE_LIMIT_403 = {
    "error": {
        "errors": [
            {
                "domain": "usageLimits",
                "reason": "userRateLimitExceeded",
                "message": "User Rate Limit Exceeded",
            }
        ],
        "code": 403,
        "message": "User Rate Limit Exceeded",
    }
}
INTERNAL = {"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}
UNAVAILABLE = {
    "error": {
        "code": 503,
        "message": "The service is currently unavailable.",
        "status": "UNAVAILABLE",
    }
}
UNAUTHENTICATED = {
    "error": {
        "code": 401,
        "message": "Request is missing required authentication credential. Expected OAuth 2 access "
        "token, login cookie or other valid authentication credential.",
        "status": "UNAUTHENTICATED",
    }
}
STATUS_BODIES = {
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    429: RESOURCE_EXHAUSTED,
    500: INTERNAL,
    503: UNAVAILABLE,
}


NOT_DOWNLOADABLE = {
    "error": {
        "errors": [
            {
                "domain": "global",
                "reason": "fileNotDownloadable",
                "message": "Only files with binary content can be downloaded. Use Export with "
                "Docs Editors files.",
                "locationType": "parameter",
                "location": "alt",
            }
        ],
        "code": 403,
        "message": "Only files with binary content can be downloaded. Use Export with Docs "
        "Editors files.",
    }
}


def drive_not_found(file_id: str) -> dict[str, Any]:
    message = f"File not found: {file_id}."
    return {
        "error": {
            "errors": [
                {
                    "domain": "global",
                    "reason": "notFound",
                    "message": message,
                    "locationType": "parameter",
                    "location": "fileId",
                }
            ],
            "code": 404,
            "message": message,
        }
    }


def invalid_argument(message: str) -> dict[str, Any]:
    return {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}


class Refused(Exception):
    """A request the fake answers with a Google error (``status``, ``body``)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body["error"]["message"])
        self.status = status
        self.body = body


def bad_request(message: str) -> Refused:
    return Refused(400, invalid_argument(message))


# -- field masks --------------------------------------------------------------------------

Mask = dict[str, "Mask | None"]


def parse_mask(text: str) -> Mask:
    """A ``fields`` mask as a tree: ``a,b(c,d/e)`` → ``{"a": None, "b": {"c": None, "d": {"e":
    None}}}`` (``.`` and ``/`` both separate path segments)."""
    pos = 0

    def items() -> Mask:
        nonlocal pos
        tree: Mask = {}
        while True:
            match = re.compile(r"[A-Za-z0-9_@$*]+(?:[./][A-Za-z0-9_@$*]+)*").match(text, pos)
            if not match:
                raise ValueError(f"bad field mask {text!r} at {pos}")
            names = re.split(r"[./]", match.group())
            pos = match.end()
            sub: Mask | None = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = items()
                if pos >= len(text) or text[pos] != ")":
                    raise ValueError(f"unbalanced field mask {text!r}")
                pos += 1
            path_mask: Mask | None = sub
            for name in reversed(names):
                path_mask = {name: path_mask}
            tree = merge_masks(tree, path_mask or {})
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return tree

    tree = items()
    if pos != len(text):
        raise ValueError(f"trailing text in field mask {text!r}")
    return tree


def merge_masks(a: Mask, b: Mask) -> Mask:
    out = dict(a)
    for k, v in b.items():
        if k in out and (out[k] is None or v is None):
            out[k] = None
        elif k in out:
            out[k] = merge_masks(out[k], v)  # type: ignore[arg-type]
        else:
            out[k] = v
    return out


class _Masked(list):  # type: ignore[type-arg]
    """A list already filtered by ``mask``: :func:`apply_mask` passes it through."""

    def __init__(self, items: list[Any], mask: Mask) -> None:
        super().__init__(items)
        self.mask = mask


def apply_mask(value: Any, mask: Mask | None) -> Any:
    if mask is None:
        return value
    if isinstance(value, _Masked) and value.mask == mask:
        return value
    if isinstance(value, list):
        return [apply_mask(v, mask) for v in value]
    if isinstance(value, dict):
        return {k: apply_mask(value[k], sub) for k, sub in mask.items() if k in value}
    return value


def mask_leaves(mask: Mask, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for k, sub in mask.items():
        out += [(*prefix, k)] if sub is None else mask_leaves(sub, (*prefix, k))
    return out


# -- discovery documents --------------------------------------------------------------------


@dataclass
class Method:
    api: dict[str, Any]
    id: str
    http_method: str
    regex: re.Pattern[str]
    spec: dict[str, Any]


@functools.cache
def discovery_methods() -> tuple[Method, ...]:
    methods = []
    for name in ("sheets.v4.json", "drive.v3.json"):
        api = json.loads((DISCOVERY_DIR / name).read_text())
        base = api["rootUrl"] + api["servicePath"]

        def walk(resources: dict[str, Any], api: dict[str, Any] = api, base: str = base) -> None:
            for resource in resources.values():
                for spec in resource.get("methods", {}).values():
                    pattern = ""
                    for part in re.split(r"(\{\+?[A-Za-z_]+\})", spec["path"]):
                        if part.startswith("{+"):
                            pattern += f"(?P<{part[2:-1]}>.+)"
                        elif part.startswith("{"):
                            pattern += f"(?P<{part[1:-1]}>[^/]+?)"
                        else:
                            pattern += re.escape(part)
                    regex = re.compile(re.escape(base) + pattern + "$")
                    methods.append(Method(api, spec["id"], spec["httpMethod"], regex, spec))
                walk(resource.get("resources", {}))

        walk(api["resources"])
    return tuple(methods)


def _resolve(api: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = api["schemas"][schema["$ref"]]
    return schema


def check_value(
    api: dict[str, Any], value: Any, schema: dict[str, Any], path: str, errors: list[str]
) -> None:
    """Record in ``errors`` every way ``value`` does not fit ``schema`` (recursively)."""
    schema = _resolve(api, schema)
    if value is None:
        return
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                check_value(api, item, props[key], f"{path}.{key}", errors)
            elif extra is not None:
                check_value(api, item, extra, f"{path}.{key}", errors)
            else:
                errors.append(f"{path}.{key}: no such field in {schema.get('id', 'schema')}")
    elif kind == "array":
        if not isinstance(value, list):
            errors.append(f"{path}: expected an array")
            return
        for i, item in enumerate(value):
            check_value(api, item, schema.get("items", {}), f"{path}[{i}]", errors)
    elif kind == "string":
        if (
            schema.get("format") in ("int64", "uint64")
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            return
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string, got {value!r}")
        elif "enum" in schema and value not in schema["enum"]:
            errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{path}: expected an integer, got {value!r}")
    elif kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            errors.append(f"{path}: expected a number, got {value!r}")
    elif kind == "boolean" and not isinstance(value, bool):
        errors.append(f"{path}: expected a boolean, got {value!r}")


Checker = Callable[[Any], bool]


class _FastChecks:
    """:func:`check_value` compiled per schema into closures that only say *whether* a value
    fits (no paths, no messages): accepting exactly what ``check_value`` accepts, they let
    the fake validate megabyte bodies quickly and call ``check_value`` for the messages only
    when something is off."""

    def __init__(self, api: dict[str, Any]) -> None:
        self.api = api
        self.memo: dict[int, tuple[dict[str, Any], Checker]] = {}  # keeps each schema alive

    def compile(self, schema: dict[str, Any]) -> Checker:
        schema = _resolve(self.api, schema)
        if (known := self.memo.get(id(schema))) is not None:
            return known[1]
        slot: list[Checker] = []
        self.memo[id(schema)] = (schema, lambda value: slot[0](value))  # recursive schemas
        checker = self._build(schema)
        slot.append(checker)
        self.memo[id(schema)] = (schema, checker)
        return checker

    def _build(self, schema: dict[str, Any]) -> Checker:
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            props = {k: self.compile(v) for k, v in schema.get("properties", {}).items()}
            extra = schema.get("additionalProperties")
            other = self.compile(extra) if extra is not None else None

            def check_object(value: Any) -> bool:
                if value is None:
                    return True
                if not isinstance(value, dict):
                    return False
                for k, item in value.items():
                    check = props.get(k, other)
                    if check is None or not check(item):
                        return False
                return True

            return check_object
        if kind == "array":
            item_check = self.compile(schema.get("items", {}))

            def check_array(value: Any) -> bool:
                if value is None:
                    return True
                if not isinstance(value, list):
                    return False
                return all(map(item_check, value))

            return check_array
        if kind == "string":
            numeric = schema.get("format") in ("int64", "uint64")
            enum = frozenset(schema["enum"]) if "enum" in schema else None

            def check_string(value: Any) -> bool:
                if value is None:
                    return True
                if numeric and isinstance(value, int) and not isinstance(value, bool):
                    return True
                if not isinstance(value, str):
                    return False
                return enum is None or value in enum

            return check_string
        if kind == "integer":
            return lambda value: (
                value is None or (isinstance(value, int) and not isinstance(value, bool))
            )
        if kind == "number":
            return lambda value: (
                value is None or (isinstance(value, int | float) and not isinstance(value, bool))
            )
        if kind == "boolean":
            return lambda value: value is None or isinstance(value, bool)
        return lambda value: True


_FAST_CHECKS: dict[int, _FastChecks] = {}


def fits(api: dict[str, Any], value: Any, schema: dict[str, Any]) -> bool:
    """Whether :func:`check_value` would find nothing wrong (fast; no messages)."""
    checks = _FAST_CHECKS.get(id(api))
    if checks is None or checks.api is not api:
        checks = _FAST_CHECKS[id(api)] = _FastChecks(api)
    return checks.compile(schema)(value)


def check_mask(
    api: dict[str, Any], mask: Mask, schema: dict[str, Any], path: str, errors: list[str]
) -> None:
    """Every name in a ``fields`` mask must exist in the schema it selects from."""
    schema = _resolve(api, schema)
    if schema.get("type") == "array":
        schema = _resolve(api, schema.get("items", {}))
    props = schema.get("properties", {})
    for name, sub in mask.items():
        if name == "*":
            continue
        if name not in props:
            errors.append(
                f"fields mask {path}{name}: no such field in {schema.get('id', 'schema')}"
            )
        elif sub is not None:
            check_mask(api, sub, props[name], f"{path}{name}.", errors)


def check_request(
    method: str, url: str, body: Any
) -> tuple[Method | None, dict[str, str], list[str]]:
    """Match a request to its discovery method; the path parameters and every violation."""
    split = urlsplit(url)
    bare = f"{split.scheme}://{split.netloc}{split.path}"
    found = [
        (m, mt)
        for m in discovery_methods()
        if m.http_method == method and (mt := m.regex.match(bare))
    ]
    if len(found) != 1:
        return None, {}, [f"{method} {bare}: matches {len(found)} discovery methods"]
    m, match = found[0]
    errors: list[str] = []
    params = {k: unquote(v) for k, v in match.groupdict().items()}
    known = {**m.api["parameters"], **m.spec.get("parameters", {})}
    for name, values in parse_qs(split.query, keep_blank_values=True).items():
        spec = known.get(name)
        if spec is None or spec.get("location") == "path":
            errors.append(f"{m.id}: unknown query parameter {name!r}")
            continue
        if len(values) > 1 and not spec.get("repeated"):
            errors.append(f"{m.id}: {name!r} given {len(values)} times")
        for value in values:
            if "enum" in spec and value not in spec["enum"]:
                errors.append(f"{m.id}: {name}={value!r} not in {spec['enum']}")
            if spec.get("type") == "boolean" and value not in ("true", "false"):
                errors.append(f"{m.id}: {name}={value!r} is not a boolean")
            if spec.get("type") == "integer" and not value.lstrip("-").isdigit():
                errors.append(f"{m.id}: {name}={value!r} is not an integer")
    for name, spec in m.spec.get("parameters", {}).items():
        if spec.get("required") and spec.get("location") == "query" and name not in split.query:
            errors.append(f"{m.id}: required parameter {name!r} missing")
    fields = parse_qs(split.query).get("fields")
    if fields and "response" in m.spec:
        try:
            check_mask(m.api, parse_mask(fields[0]), m.spec["response"], "", errors)
        except ValueError as e:
            errors.append(f"{m.id}: {e}")
    if "request" in m.spec:
        if not fits(m.api, body, m.spec["request"]):  # the messages, only when needed
            check_value(m.api, body, m.spec["request"], "body", errors)
        for path, mask_text, schema in _inner_masks(body):
            try:
                check_mask(m.api, parse_mask(mask_text), {"$ref": schema}, path + ":", errors)
            except ValueError as e:
                errors.append(f"{path}: {e}")
    elif body not in (None, b"", ""):
        errors.append(f"{m.id}: takes no request body")
    return m, params, errors


def _inner_masks(body: Any) -> Iterator[tuple[str, str, str]]:
    """The ``fields`` masks inside batchUpdate requests, with the schema each selects in."""
    targets = {
        "updateSheetProperties": "SheetProperties",
        "updateCells": "CellData",
        "repeatCell": "CellData",
        "updateDimensionProperties": "DimensionProperties",
    }
    for i, request in enumerate((body or {}).get("requests", []) if isinstance(body, dict) else []):
        for kind, schema in targets.items():
            if kind in request and isinstance(request[kind].get("fields"), str):
                yield f"requests[{i}].{kind}.fields", request[kind]["fields"], schema


# -- the fake's state -------------------------------------------------------------------------


@dataclass
class FakeTab:
    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    frozen: int = 0
    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    widths: dict[int, int] = field(default_factory=dict)
    protected: list[dict[str, Any]] = field(default_factory=list)

    def properties(self, index: int) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.rows, "columnCount": self.cols}
        if self.frozen:
            grid["frozenRowCount"] = self.frozen
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }

    def values(self) -> list[list[Any]]:
        """User-entered values as Python (str/number/bool; formulas as "=…"), trimmed."""
        out: list[list[Any]] = []
        for (r, c), cell in sorted(self.cells.items()):
            value = python_value(cell.get("userEnteredValue"))
            if value is None:
                continue
            while len(out) <= r:
                out.append([])
            while len(out[r]) <= c:
                out[r].append(None)
            out[r][c] = value
        return out

    def snapshot(self) -> str:
        """Everything about the tab, as a canonical string (for byte-for-byte checks)."""
        state = {
            "props": self.properties(0),
            "cells": sorted((list(k), v) for k, v in self.cells.items()),
            "widths": sorted(self.widths.items()),
        }
        return json.dumps(state, sort_keys=True, ensure_ascii=False)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _leaf_values(source: Any, leaves: list[tuple[str, ...]]) -> list[tuple[tuple[str, ...], Any]]:
    """Each leaf of a ``fields`` mask with the value ``source`` has there (None: none)."""
    out = []
    for leaf in leaves:
        value = source
        for name in leaf:
            value = value.get(name) if isinstance(value, dict) else None
        out.append((leaf, value))
    return out


def _updated(cell: dict[str, Any], updates: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    """``cell`` with each leaf set to its value (removed where the value is None), then
    top-level empty objects dropped: a new dict, or ``cell`` itself when nothing changes.

    Neither ``cell`` nor anything in it is changed in place (the path down to a leaf is
    copied), so stored cells may share values with each other and with the request that
    wrote them, and a batchUpdate can work on shallow copies of the cell maps.
    """
    out: dict[str, Any] | None = None
    for leaf, value in updates:
        if value is None and len(leaf) <= 2 and leaf[0] not in (cell if out is None else out):
            continue  # nothing to clear (making then dropping an empty parent is a no-op)
        if out is None:
            out = dict(cell)
        node = out
        for name in leaf[:-1]:  # copy the path down to the leaf
            child = node.get(name)
            node[name] = child = dict(child) if isinstance(child, dict) else {}
            node = child
        if value is None:
            node.pop(leaf[-1], None)
        else:
            node[leaf[-1]] = value
    if out is None:
        out = cell
    if {} in out.values():
        out = {k: v for k, v in out.items() if v != {}}
    return out


def python_value(value: dict[str, Any] | None) -> Any:
    if not value:
        return None
    for key in ("stringValue", "numberValue", "boolValue"):
        if key in value:
            return value[key]
    if "formulaValue" in value:
        return value["formulaValue"]
    return None


def extended_value(value: Any) -> dict[str, Any] | None:
    """How Google stores a Python value typed into a cell (dates become serials)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, datetime):
        return {"numberValue": (value - EPOCH).total_seconds() / 86400}
    if isinstance(value, date):
        return {"numberValue": (value - EPOCH.date()).days}
    if isinstance(value, int | float):
        return {"numberValue": value}
    return {"stringValue": str(value)}


def effective_value(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    if "formulaValue" in value:  # the fake does not compute formulas
        return {"errorValue": {"type": "ERROR", "message": "formula not evaluated by the fake"}}
    return value  # shared with the stored cell: neither is ever changed in place


def formatted_value(value: dict[str, Any] | None) -> str | None:
    if not value:
        return None
    if "boolValue" in value:
        return "TRUE" if value["boolValue"] else "FALSE"
    if "numberValue" in value:
        number = value["numberValue"]
        return str(int(number)) if float(number).is_integer() else str(number)
    if "formulaValue" in value:
        return "#ERROR!"
    return str(value.get("stringValue", ""))


#: What ``spreadsheets.get`` shows of a stored cell, field by field (None: not shown).
CELL_GETTERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "userEnteredValue": lambda cell: cell.get("userEnteredValue") or None,
    "effectiveValue": lambda cell: effective_value(cell.get("userEnteredValue")),
    "formattedValue": lambda cell: (
        formatted_value(uev) if (uev := cell.get("userEnteredValue")) else None
    ),
    "userEnteredFormat": lambda cell: cell.get("userEnteredFormat") or None,
    "dataValidation": lambda cell: cell.get("dataValidation") or None,
}


def _cell_renderer(mask: Mask | None) -> Callable[[dict[str, Any] | None], dict[str, Any]]:
    """A stored cell as ``spreadsheets.get`` shows it, filtered by ``mask`` (the ``fields``
    mask at ``values``; None: everything)."""
    if mask is None:
        parts = [(k, get, None) for k, get in CELL_GETTERS.items()]
    else:
        parts = [(k, CELL_GETTERS[k], sub) for k, sub in mask.items() if k in CELL_GETTERS]

    def render(cell: dict[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if cell:
            for key, get, sub in parts:
                value = get(cell)
                if value is not None:
                    out[key] = value if sub is None else apply_mask(value, sub)
        return out

    return render


@dataclass
class FakeSpreadsheet:
    id: str
    title: str
    tabs: list[FakeTab]
    parents: list[str]
    version: int = 1
    modified: str = "2024-01-01T00:00:00.000Z"
    shared: bool = True
    can_edit: bool = True
    deleted: bool = False
    mime: str = SPREADSHEET_MIME
    #: Spreadsheet-level developer metadata (``DeveloperMetadata`` JSON objects).
    metadata: list[dict[str, Any]] = field(default_factory=list)
    #: The file's bytes when it is an uploaded file (an .xlsx not converted to Sheets).
    content: bytes | None = None
    #: Whether the last change was made by the account calling the API (Drive's
    #: ``lastModifyingUser.me``): every API write here is the service account's.
    modified_by_me: bool = False

    def tab(self, title: str) -> FakeTab | None:
        return next((t for t in self.tabs if t.title == title), None)

    def by_id(self, sheet_id: int) -> FakeTab | None:
        return next((t for t in self.tabs if t.sheet_id == sheet_id), None)


@dataclass
class Fault:
    status: int | None
    body: dict[str, Any] | None
    times: int
    target: str | None
    method: str | None
    headers: dict[str, str]
    exception: Exception | None = None

    def matches(self, method_id: str, target: str) -> bool:
        return (self.target in (None, target)) and (
            self.method is None or method_id.endswith(self.method)
        )


@dataclass
class Call:
    method: str
    target: str
    kind: str
    status: int


READ_METHODS = {
    "sheets.spreadsheets.get",
    "sheets.spreadsheets.values.get",
    "drive.files.list",
    "drive.files.get",
}


class FakeGoogle:
    """Google Sheets + Drive in memory, behind ``responses``."""

    def __init__(self, *, max_body_bytes: int | None = None, page_size_cap: int = 1000) -> None:
        self.spreadsheets: dict[str, FakeSpreadsheet] = {}
        self.folders: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.calls: list[Call] = []
        self.reads: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.token_requests = 0
        self.reject_tokens = False  # the key was deleted: the token endpoint says invalid_grant
        self.tokens: set[str] = {"static-test-token"}
        self.violations: list[str] = []
        self.formatting: list[tuple[str, dict[str, Any]]] = []
        self.bodies: list[tuple[str, Any]] = []  # (method id, JSON body) of every write
        self.max_body_bytes = max_body_bytes
        self.page_size_cap = page_size_cap
        self.clock = datetime(2024, 1, 1, tzinfo=UTC)
        self._serial = 0
        #: (method id ending, target, callback): run once, just before such a request is
        #: handled: a person saving a sheet at exactly that moment.
        self.hooks: list[tuple[str, str, Callable[[], None]]] = []

    # -- building the world -----------------------------------------------------------
    def new_id(self, seed: str) -> str:
        self._serial += 1
        digest = hashlib.sha256(f"{seed}/{self._serial}".encode()).digest()
        return "1" + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:43]

    def add_folder(self, name: str = "Báo cáo các xã", *, shared: bool = True) -> str:
        folder_id = self.new_id(name)
        self.folders[folder_id] = {"name": name, "shared": shared}
        return folder_id

    def add_spreadsheet(
        self,
        title: str,
        tabs: dict[str, list[list[Any]]] | None = None,
        *,
        folder: str | None = None,
        shared: bool = True,
        can_edit: bool = True,
        frozen: int = 0,
    ) -> str:
        """A spreadsheet with these tabs (grids of Python values, as typed), returns its ID."""
        sid = self.new_id(title)
        built = []
        for i, (name, grid) in enumerate((tabs or {"Trang tính1": []}).items()):
            tab = FakeTab(sheet_id=i * 1000 + 7 if i else 0, title=name, frozen=frozen)
            tab.rows = max(1000, len(grid))
            tab.cols = max(26, *(len(r) for r in grid)) if grid else 26
            for r, row in enumerate(grid):
                for c, value in enumerate(row):
                    ev = extended_value(value)
                    if ev:
                        tab.cells[(r, c)] = {"userEnteredValue": ev}
            built.append(tab)
        self.spreadsheets[sid] = FakeSpreadsheet(
            sid,
            title,
            built,
            [folder] if folder else [],
            shared=shared,
            can_edit=can_edit,
            modified=self._now(),
        )
        return sid

    def add_upload(
        self, name: str, data: bytes, *, folder: str | None = None, shared: bool = True
    ) -> str:
        """An .xlsx uploaded to Drive and not converted to Google Sheets; returns its ID."""
        fid = self.new_id(name)
        self.spreadsheets[fid] = FakeSpreadsheet(
            fid,
            name,
            [],
            [folder] if folder else [],
            shared=shared,
            modified=self._now(),
            mime=XLSX_MIME,
            content=data,
        )
        return fid

    def replace_upload(self, fid: str, data: bytes) -> None:
        """A new revision of an uploaded file (the commune uploads it again)."""
        upload = self.spreadsheets[fid]
        upload.content = data
        upload.version += 1
        upload.modified_by_me = False
        upload.modified = self._now()

    def values(self, sid: str, title: str) -> list[list[Any]]:
        tab = self.spreadsheets[sid].tab(title)
        assert tab is not None, f"no tab {title!r}"
        return tab.values()

    def edit(self, sid: str, title: str, row: int, col: int, value: Any) -> None:
        """A person typing ``value`` into one cell (0-based), as the Sheets UI would."""
        sheet = self.spreadsheets[sid]
        tab = sheet.tab(title)
        assert tab is not None, f"no tab {title!r}"
        ev = extended_value(value)
        cell = dict(tab.cells.get((row, col), {}))  # cells are replaced, never changed in place
        if ev:
            cell["userEnteredValue"] = ev
        else:
            cell.pop("userEnteredValue", None)
        if ev or (row, col) in tab.cells:
            tab.cells[(row, col)] = cell
        sheet.version += 1
        sheet.modified = self._now()
        sheet.modified_by_me = False

    def inject(
        self,
        status: int | None = None,
        *,
        body: dict[str, Any] | None = None,
        times: int = 1,
        target: str | None = None,
        method: str | None = None,
        headers: dict[str, str] | None = None,
        exception: Exception | None = None,
    ) -> None:
        """The next ``times`` matching requests fail (``target``: spreadsheet/file ID;
        ``method``: the end of a method id such as ``"get"``, ``"batchUpdate"``, ``"list"``)."""
        if exception is None and body is None:
            body = STATUS_BODIES.get(status or 500, INTERNAL)
        self.faults.append(Fault(status, body, times, target, method, headers or {}, exception))

    def before(self, method: str, target: str, callback: Callable[[], None]) -> None:
        """Run ``callback`` once, just before the next ``method`` request on ``target``
        is handled (an edit landing between namcoso's read and its write)."""
        self.hooks.append((method, target, callback))

    def _now(self) -> str:
        self.clock += timedelta(seconds=1)
        return self.clock.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    # -- plumbing -----------------------------------------------------------------------
    def install(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.POST, TOKEN_URL, callback=self._token)
        for verb in (responses.GET, responses.POST, responses.PUT):
            rsps.add_callback(
                verb, re.compile(r"https://sheets\.googleapis\.com/.*"), callback=self._handle
            )
            rsps.add_callback(
                verb, re.compile(r"https://www\.googleapis\.com/drive/.*"), callback=self._handle
            )

    def _token(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        form = parse_qs(
            request.body if isinstance(request.body, str) else (request.body or b"").decode()
        )
        if form.get("grant_type") != [
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        ] or not form.get("assertion"):
            self.violations.append(f"token request without a JWT assertion: {sorted(form)}")
            return 400, {}, json.dumps({"error": "invalid_grant"})
        if self.reject_tokens:
            return (
                400,
                {},
                json.dumps(
                    {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
                ),
            )
        self.token_requests += 1
        token = f"ya29.fake-{self.token_requests}"
        self.tokens.add(token)
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}),
        )

    def _handle(self, request: requests.PreparedRequest) -> Any:
        raw = request.body
        if isinstance(raw, str):
            raw = raw.encode()
        body = json.loads(raw) if raw else None
        method, params, errors = check_request(request.method or "", request.url or "", body)
        if errors:
            self.violations.extend(errors)
            return 400, {}, json.dumps(invalid_argument("; ".join(errors)))
        assert method is not None
        target = params.get("spreadsheetId") or params.get("fileId") or "drive"
        for hook in [h for h in self.hooks if method.id.endswith(h[0]) and h[1] == target]:
            self.hooks.remove(hook)
            hook[2]()
        kind = "read" if method.id in READ_METHODS else "write"
        (self.reads if kind == "read" else self.writes)[target] += 1
        query = parse_qs(urlsplit(request.url or "").query, keep_blank_values=True)
        auth = request.headers.get("Authorization", "")
        status, headers, reply = 200, {}, {}
        fault = next((f for f in self.faults if f.times > 0 and f.matches(method.id, target)), None)
        try:
            if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                raise Refused(401, UNAUTHENTICATED)
            if fault is not None:
                fault.times -= 1
                if fault.exception is not None:
                    self.calls.append(Call(method.id, target, kind, 0))
                    return fault.exception
                raise Refused(fault.status or 500, fault.body or INTERNAL)
            if self.max_body_bytes and raw and len(raw) > self.max_body_bytes:
                raise bad_request(
                    f"Request payload size exceeds the limit: {self.max_body_bytes} bytes."
                )
            handler = getattr(self, "_" + method.id.split(".", 1)[1].replace(".", "_"), None)
            if handler is None:
                self.violations.append(f"{method.id}: not implemented by the fake")
                raise bad_request("not implemented by the fake")
            reply = handler(params, query, body)
            if isinstance(reply, bytes):  # a media download
                self.calls.append(Call(method.id, target, kind, 200))
                return 200, {"Content-Type": XLSX_MIME}, reply
            if kind == "write" and body is not None:
                self.bodies.append((method.id, body))
        except Refused as refused:
            status, reply = refused.status, refused.body
            headers = fault.headers if fault is not None else {}
        self.calls.append(Call(method.id, target, kind, status))
        if status == 200 and "fields" in query:
            reply = apply_mask(reply, parse_mask(query["fields"][0]))
        headers = {"Content-Type": "application/json; charset=UTF-8", **headers}
        return status, headers, json.dumps(reply, ensure_ascii=False)

    def _sheet(self, sid: str, *, write: bool = False) -> FakeSpreadsheet:
        sheet = self.spreadsheets.get(sid)
        if sheet is None or sheet.deleted:
            raise Refused(404, NOT_FOUND)
        if not sheet.shared or (write and not sheet.can_edit):
            raise Refused(403, PERMISSION_DENIED)
        if sheet.mime != SPREADSHEET_MIME:
            raise bad_request("This operation is not supported for this document")
        return sheet

    # -- Sheets -----------------------------------------------------------------------------
    def _spreadsheets_get(
        self, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> dict[str, Any]:
        sheet = self._sheet(params["spreadsheetId"])
        mask = parse_mask(query["fields"][0]) if "fields" in query else None
        grid_data = query.get("includeGridData") == ["true"]
        return self._spreadsheet_json(sheet, mask, grid_data, query.get("ranges"))

    @staticmethod
    def _range_titles(sheet: FakeSpreadsheet, ranges: list[str]) -> list[str]:
        """The tab titles A1 ``ranges`` name; a tab that does not exist fails them all."""
        wanted = [r.split("!")[0].strip("'").replace("''", "'") for r in ranges]
        for name in wanted:
            if sheet.tab(name) is None:
                raise bad_request(f"Unable to parse range: {name}")
        return wanted

    def _spreadsheet_json(
        self,
        sheet: FakeSpreadsheet,
        mask: Mask | None,
        grid_data: bool,
        ranges: list[str] | None,
    ) -> dict[str, Any]:
        """A ``Spreadsheet`` as ``spreadsheets.get`` (or a batchUpdate's
        ``updatedSpreadsheet``) shows it: ``mask`` is the ``fields`` mask at the
        spreadsheet (it wins over ``grid_data``); ``ranges`` keeps only the tabs named."""
        row_mask: Mask | None = None  # what of each tab's rowData the mask keeps
        if mask is not None:
            with_data = "sheets" in mask and (mask["sheets"] is None or "data" in mask["sheets"])
            if with_data and mask["sheets"] is not None and mask["sheets"]["data"] is not None:
                row_mask = mask["sheets"]["data"].get("rowData")
        else:
            with_data = grid_data
        tabs = list(enumerate(sheet.tabs))
        if ranges:
            wanted = self._range_titles(sheet, ranges)
            tabs = [(i, t) for i, t in tabs if t.title in wanted]
        out_sheets = []
        for i, tab in tabs:
            entry: dict[str, Any] = {"properties": tab.properties(i)}
            if tab.protected:
                entry["protectedRanges"] = [dict(p) for p in tab.protected]
            if with_data:
                entry["data"] = [{"rowData": self._row_data(tab, row_mask)}]
            out_sheets.append(entry)
        out = {
            "spreadsheetId": sheet.id,
            "properties": {"title": sheet.title, "locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"},
            "sheets": out_sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{sheet.id}/edit",
        }
        if sheet.metadata:
            out["developerMetadata"] = [_copy(m) for m in sheet.metadata]
        return out

    @staticmethod
    def _row_data(tab: FakeTab, mask: Mask | None = None) -> list[dict[str, Any]]:
        """The tab's ``rowData``; with ``mask`` (the ``fields`` mask at ``rowData``) already
        filtered by it, so that only what was asked for is built (``apply_mask`` then
        passes the list through)."""
        if mask is not None and set(mask) != {"values"}:
            return _Masked(apply_mask(FakeGoogle._row_data(tab), mask), mask)
        cell_mask = None if mask is None else mask["values"]
        render = _cell_renderer(cell_mask)
        by_row: dict[int, dict[int, dict[str, Any]]] = {}
        for (r, c), cell in tab.cells.items():
            by_row.setdefault(r, {})[c] = cell
        rows: list[dict[str, Any]] = []
        for r in range(max(by_row) + 1 if by_row else 0):
            row = by_row.get(r)
            if not row:
                rows.append({})
                continue
            rows.append({"values": [render(row.get(c)) for c in range(max(row) + 1)]})
        return rows if mask is None else _Masked(rows, mask)

    def _spreadsheets_batchUpdate(
        self, params: dict[str, str], query: Any, body: dict[str, Any]
    ) -> dict[str, Any]:
        sheet = self._sheet(params["spreadsheetId"], write=True)
        # Work on copies, kept only if every request applies (all-or-nothing). The cell maps
        # are copied shallowly: a stored cell is never changed in place, only replaced (see
        # _updated), so the live tabs stay as they were until the batch succeeds.
        work = [
            dataclasses.replace(
                t, cells=dict(t.cells), widths=dict(t.widths), protected=list(t.protected)
            )
            for t in sheet.tabs
        ]
        ranges = body.get("responseRanges") or None
        if ranges and body.get("includeSpreadsheetInResponse"):
            self._range_titles(sheet, ranges)  # a bad range refuses the whole batch
        self._metadata = [_copy(m) for m in sheet.metadata]
        replies = []
        for i, request in enumerate(body.get("requests", [])):
            if len(request) != 1:
                raise bad_request(f"Invalid requests[{i}]: exactly one kind of request expected")
            kind, spec = next(iter(request.items()))
            try:
                replies.append(getattr(self, f"_apply_{kind}")(work, spec))
            except AttributeError:
                self.violations.append(f"batchUpdate {kind}: not implemented by the fake")
                raise bad_request(f"Invalid requests[{i}]: unsupported") from None
            except Refused as e:
                raise bad_request(f"Invalid requests[{i}].{kind}: {e}") from None
        sheet.tabs = work
        sheet.metadata = self._metadata
        sheet.version += 1
        sheet.modified = self._now()
        sheet.modified_by_me = True
        reply: dict[str, Any] = {"spreadsheetId": sheet.id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            mask = parse_mask(query["fields"][0]) if "fields" in query else None
            if mask is not None:
                mask = mask.get("updatedSpreadsheet") or {}
            reply["updatedSpreadsheet"] = self._spreadsheet_json(
                sheet, mask, bool(body.get("responseIncludeGridData")), ranges
            )
        return reply

    def _apply_createDeveloperMetadata(
        self, work: list[FakeTab], spec: dict[str, Any]
    ) -> dict[str, Any]:
        meta = _copy(spec.get("developerMetadata") or {})
        if not meta.get("metadataKey"):
            raise bad_request("metadataKey is required")
        if meta.get("visibility") not in ("DOCUMENT", "PROJECT"):
            raise bad_request("Developer metadata must always have a visibility specified")
        location = meta.get("location") or {}
        if location != {"spreadsheet": True}:
            self.violations.append(f"createDeveloperMetadata location {location} not modelled")
            raise bad_request("unsupported location")
        ids = {m["metadataId"] for m in self._metadata}
        if meta.get("metadataId") in ids:
            raise bad_request(f"Developer metadata with id {meta['metadataId']} already exists")
        meta.setdefault("metadataId", max(ids, default=100) + 1)
        meta["location"] = {"locationType": "SPREADSHEET", "spreadsheet": True}
        self._metadata.append(meta)
        return {"createDeveloperMetadata": {"developerMetadata": _copy(meta)}}

    @staticmethod
    def _tab(work: list[FakeTab], sheet_id: Any) -> FakeTab:
        tab = next((t for t in work if t.sheet_id == sheet_id), None)
        if tab is None:
            raise bad_request(f"No grid with id: {sheet_id}")
        return tab

    @staticmethod
    def _check_grid(tab: FakeTab) -> None:
        if tab.rows < 1 or tab.cols < 1:
            raise bad_request("A sheet must have at least one row and one column")
        if tab.frozen >= tab.rows:
            raise bad_request("You can't freeze all visible rows on the sheet.")
        tab.cells = {k: v for k, v in tab.cells.items() if k[0] < tab.rows and k[1] < tab.cols}

    def _apply_addSheet(self, work: list[FakeTab], spec: dict[str, Any]) -> dict[str, Any]:
        props = spec.get("properties", {})
        title = props.get("title") or f"Trang tính{len(work) + 1}"
        if any(t.title == title for t in work):
            raise bad_request(
                f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        sheet_id = props.get("sheetId", max((t.sheet_id for t in work), default=0) + 1)
        if sheet_id < 0 or any(t.sheet_id == sheet_id for t in work):
            raise bad_request(f"Sheet with id {sheet_id} already exists")
        grid = props.get("gridProperties", {})
        tab = FakeTab(
            sheet_id,
            title,
            grid.get("rowCount", 1000),
            grid.get("columnCount", 26),
            grid.get("frozenRowCount", 0),
        )
        self._check_grid(tab)
        work.insert(props.get("index", len(work)), tab)
        return {"addSheet": {"properties": tab.properties(work.index(tab))}}

    def _apply_updateSheetProperties(
        self, work: list[FakeTab], spec: dict[str, Any]
    ) -> dict[str, Any]:
        props = spec.get("properties", {})
        tab = self._tab(work, props.get("sheetId"))
        if not spec.get("fields"):
            raise bad_request("At least one field must be updated")
        grid = props.get("gridProperties", {})
        names = {"rowCount": "rows", "columnCount": "cols", "frozenRowCount": "frozen"}
        for leaf in mask_leaves(parse_mask(spec["fields"])):
            if leaf == ("title",):
                if any(t.title == props.get("title") and t is not tab for t in work):
                    raise bad_request("A sheet with that name already exists")
                tab.title = props.get("title", tab.title)
            elif len(leaf) == 2 and leaf[0] == "gridProperties" and leaf[1] in names:
                setattr(tab, names[leaf[1]], grid.get(leaf[1], 0))
            else:
                self.violations.append(f"updateSheetProperties field {'.'.join(leaf)} not modelled")
        self._check_grid(tab)
        return {}

    def _range(
        self, work: list[FakeTab], grid_range: dict[str, Any]
    ) -> tuple[FakeTab, int, int, int, int]:
        tab = self._tab(work, grid_range.get("sheetId", 0))
        r0, r1 = grid_range.get("startRowIndex", 0), grid_range.get("endRowIndex", tab.rows)
        c0, c1 = grid_range.get("startColumnIndex", 0), grid_range.get("endColumnIndex", tab.cols)
        if not (0 <= r0 <= r1 <= tab.rows and 0 <= c0 <= c1 <= tab.cols):
            raise bad_request(
                f"Range ({tab.title}!R{r0}C{c0}:R{r1}C{c1}) exceeds grid limits. "
                f"Max rows: {tab.rows}, max columns: {tab.cols}"
            )
        return tab, r0, r1, c0, c1

    def _write_cell(
        self, tab: FakeTab, r: int, c: int, source: dict[str, Any], leaves: list[tuple[str, ...]]
    ) -> None:
        cell = tab.cells.get((r, c))
        if cell is None:
            if not source:
                return  # clearing a cell that holds nothing
            cell = {}
        cell = _updated(cell, _leaf_values(source, leaves))  # a new dict, never changed in place
        if cell:
            tab.cells[(r, c)] = cell
        else:
            tab.cells.pop((r, c), None)

    def _apply_setDataValidation(self, work: list[FakeTab], spec: dict[str, Any]) -> dict[str, Any]:
        grid = spec.get("range", {})
        tab = self._tab(work, grid.get("sheetId"))
        for r in range(grid.get("startRowIndex", 0), grid.get("endRowIndex", tab.rows)):
            for c in range(grid.get("startColumnIndex", 0), grid.get("endColumnIndex", tab.cols)):
                if spec.get("rule"):  # cells are replaced, never changed in place
                    cell = dict(tab.cells.get((r, c), {}))
                    cell["dataValidation"] = _copy(spec["rule"])
                    tab.cells[(r, c)] = cell
                elif (r, c) in tab.cells:
                    cell = dict(tab.cells[(r, c)])
                    cell.pop("dataValidation", None)
                    if cell:
                        tab.cells[(r, c)] = cell
                    else:
                        del tab.cells[(r, c)]
        return {}

    def _apply_addProtectedRange(self, work: list[FakeTab], spec: dict[str, Any]) -> dict[str, Any]:
        protected = _copy(spec.get("protectedRange", {}))
        tab = self._tab(work, protected.get("range", {}).get("sheetId"))
        protected["protectedRangeId"] = 1000 + sum(len(t.protected) for t in work)
        tab.protected.append(protected)
        return {"addProtectedRange": {"protectedRange": protected}}

    # Formats, flags and charts: the fake checks that they point at existing tabs and
    # records them (their rendering is Google's business, their shape the discovery doc's).
    def _apply_addConditionalFormatRule(
        self, work: list[FakeTab], spec: dict[str, Any]
    ) -> dict[str, Any]:
        for grid_range in spec.get("rule", {}).get("ranges", []):
            self._tab(work, grid_range.get("sheetId"))
        self.formatting.append(("addConditionalFormatRule", spec))
        return {}

    def _apply_setBasicFilter(self, work: list[FakeTab], spec: dict[str, Any]) -> dict[str, Any]:
        self._tab(work, spec.get("filter", {}).get("range", {}).get("sheetId"))
        self.formatting.append(("setBasicFilter", spec))
        return {}

    def _apply_addChart(self, work: list[FakeTab], spec: dict[str, Any]) -> dict[str, Any]:
        anchor = spec.get("chart", {}).get("position", {}).get("overlayPosition", {})
        if "anchorCell" in anchor:
            self._tab(work, anchor["anchorCell"].get("sheetId"))
        self.formatting.append(("addChart", spec))
        return {"addChart": {"chart": {"chartId": len(self.formatting)}}}

    def _apply_updateCells(self, work: list[FakeTab], spec: dict[str, Any]) -> dict[str, Any]:
        if not spec.get("fields"):
            raise bad_request("fields is required")
        leaves = mask_leaves(parse_mask(spec["fields"]))
        rows = spec.get("rows", [])
        if "range" in spec:  # every cell of the range is written; cells without data are cleared
            tab, r0, r1, c0, c1 = self._range(work, spec["range"])
            if len(rows) > r1 - r0 or any(len(row.get("values", [])) > c1 - c0 for row in rows):
                raise bad_request("The data does not fit in the range")
            cells = tab.cells  # _write_cell inlined: this loop sees every cell of a tab
            for r in range(r0, r1):
                values = rows[r - r0].get("values", []) if r - r0 < len(rows) else []
                given = len(values)
                for dc in range(c1 - c0):
                    key = (r, c0 + dc)
                    source = values[dc] if dc < given else {}
                    cell = cells.get(key)
                    if cell is None:
                        if not source:
                            continue  # clearing a cell that holds nothing
                        cell = {}
                    cell = _updated(cell, _leaf_values(source, leaves))
                    if cell:
                        cells[key] = cell
                    else:
                        cells.pop(key, None)
        else:  # from `start`, only the cells given are written
            start = spec.get("start", {})
            tab = self._tab(work, start.get("sheetId", 0))
            r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
            for dr, row in enumerate(rows):
                for dc, value in enumerate(row.get("values", [])):
                    if r0 + dr >= tab.rows or c0 + dc >= tab.cols:
                        raise bad_request("exceeds grid limits")
                    self._write_cell(tab, r0 + dr, c0 + dc, value, leaves)
        return {}

    def _apply_repeatCell(self, work: list[FakeTab], spec: dict[str, Any]) -> dict[str, Any]:
        tab, r0, r1, c0, c1 = self._range(work, spec.get("range", {}))
        leaves = mask_leaves(parse_mask(spec.get("fields", "")))
        source = spec.get("cell", {})
        updates = _leaf_values(source, leaves)  # the same for every cell
        cells = tab.cells
        keys: Iterable[tuple[int, int]]
        if not source or all(v is None and len(leaf) <= 2 for leaf, v in updates):
            # only clears: a cell that holds nothing stays as it is, so visit those that hold
            keys = [k for k in cells if r0 <= k[0] < r1 and c0 <= k[1] < c1]
        else:
            keys = ((r, c) for r in range(r0, r1) for c in range(c0, c1))
        for key in keys:  # _write_cell inlined
            cell = cells.get(key)
            if cell is None:
                if not source:
                    continue
                cell = {}
            cell = _updated(cell, updates)
            if cell:
                cells[key] = cell
            else:
                cells.pop(key, None)
        return {}

    def _apply_updateDimensionProperties(
        self, work: list[FakeTab], spec: dict[str, Any]
    ) -> dict[str, Any]:
        rng = spec.get("range", {})
        tab = self._tab(work, rng.get("sheetId", 0))
        if rng.get("dimension") == "COLUMNS" and "pixelSize" in spec.get("properties", {}):
            for c in range(rng.get("startIndex", 0), rng.get("endIndex", tab.cols)):
                if c >= tab.cols:
                    raise bad_request("exceeds grid limits")
                tab.widths[c] = spec["properties"]["pixelSize"]
        return {}

    # values.* — only what naive gspread uses
    def _a1(
        self, sheet: FakeSpreadsheet, text: str
    ) -> tuple[FakeTab, int, int, int | None, int | None]:
        name, _, cells = text.rpartition("!") if "!" in text else (text, "", "")
        name = name.strip("'").replace("''", "'")
        tab = sheet.tab(name)
        if tab is None:
            raise bad_request(f"Unable to parse range: {text}")

        def point(ref: str) -> tuple[int, int | None]:
            match = re.fullmatch(r"([A-Z]*)(\d*)", ref)
            assert match, ref
            col = 0
            for ch in match.group(1):
                col = col * 26 + ord(ch) - 64
            return (col - 1 if match.group(1) else 0), (
                int(match.group(2)) - 1 if match.group(2) else None
            )

        if not cells:
            return tab, 0, 0, None, None
        first, _, last = cells.partition(":")
        c0, r0 = point(first)
        if not last:
            return tab, r0 or 0, c0, None, None
        c1, r1 = point(last)
        return tab, r0 or 0, c0, (r1 + 1 if r1 is not None else None), c1 + 1

    def _spreadsheets_values_get(
        self, params: dict[str, str], query: Any, body: Any
    ) -> dict[str, Any]:
        sheet = self._sheet(params["spreadsheetId"])
        tab, r0, c0, r1, c1 = self._a1(sheet, params["range"])
        raw = query.get("valueRenderOption") == ["UNFORMATTED_VALUE"]
        values: list[list[Any]] = []
        for (r, c), cell in sorted(tab.cells.items()):
            if r < r0 or c < c0 or (r1 is not None and r >= r1) or (c1 is not None and c >= c1):
                continue
            uev = cell.get("userEnteredValue")
            shown = python_value(uev) if raw else formatted_value(uev)
            if shown is None:
                continue
            while len(values) <= r - r0:
                values.append([])
            row = values[r - r0]
            while len(row) <= c - c0:
                row.append("")
            row[c - c0] = shown
        reply: dict[str, Any] = {"range": params["range"], "majorDimension": "ROWS"}
        if values:
            reply["values"] = values
        return reply

    def _spreadsheets_values_clear(
        self, params: dict[str, str], query: Any, body: Any
    ) -> dict[str, Any]:
        sheet = self._sheet(params["spreadsheetId"], write=True)
        tab, r0, c0, r1, c1 = self._a1(sheet, params["range"])
        for r, c in list(tab.cells):
            if r >= r0 and c >= c0 and (r1 is None or r < r1) and (c1 is None or c < c1):
                self._write_cell(tab, r, c, {}, [("userEnteredValue",)])
        sheet.version += 1
        sheet.modified = self._now()
        sheet.modified_by_me = True
        return {"spreadsheetId": sheet.id, "clearedRange": params["range"]}

    def _spreadsheets_values_update(
        self, params: dict[str, str], query: Any, body: dict[str, Any]
    ) -> dict[str, Any]:
        sheet = self._sheet(params["spreadsheetId"], write=True)
        option = (query.get("valueInputOption") or [None])[0]
        if option not in ("RAW", "USER_ENTERED"):
            raise bad_request("'valueInputOption' is required but not specified")
        tab, r0, c0, _, _ = self._a1(sheet, params["range"])
        values = body.get("values", [])
        tab.rows = max(tab.rows, r0 + len(values))
        tab.cols = max(tab.cols, c0 + max((len(r) for r in values), default=0))
        for dr, row in enumerate(values):
            for dc, value in enumerate(row):
                if option == "USER_ENTERED" and isinstance(value, str) and value.startswith("="):
                    ev: dict[str, Any] | None = {"formulaValue": value}
                else:
                    ev = extended_value(value)
                self._write_cell(
                    tab,
                    r0 + dr,
                    c0 + dc,
                    {"userEnteredValue": ev} if ev else {},
                    [("userEnteredValue",)],
                )
        sheet.version += 1
        sheet.modified = self._now()
        sheet.modified_by_me = True
        cells = sum(len(r) for r in values)
        return {
            "spreadsheetId": sheet.id,
            "updatedRange": params["range"],
            "updatedRows": len(values),
            "updatedCells": cells,
        }

    # -- Drive ------------------------------------------------------------------------------
    def _file_json(self, sheet: FakeSpreadsheet) -> dict[str, Any]:
        out = {
            "kind": "drive#file",
            "id": sheet.id,
            "name": sheet.title,
            "mimeType": sheet.mime,
            "parents": sheet.parents,
            "modifiedTime": sheet.modified,
            "version": str(sheet.version),
            "trashed": False,
            "capabilities": {"canEdit": sheet.can_edit},
            "lastModifyingUser": {
                "kind": "drive#user",
                "displayName": "namcoso" if sheet.modified_by_me else "Văn phòng xã",
                "me": sheet.modified_by_me,
            },
        }
        if sheet.content is not None:  # only files with binary content have these
            out["md5Checksum"] = hashlib.md5(sheet.content).hexdigest()
            out["size"] = str(len(sheet.content))
        return out

    def _files_list(
        self, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> dict[str, Any]:
        parent = None
        mimes: set[str] | None = None
        for clause in (query.get("q") or [""])[0].split(" and "):
            clause = clause.strip()
            alternatives = re.fullmatch(r"\((.*)\)", clause)
            wanted = [
                re.fullmatch(r"mimeType\s*=\s*'([^']+)'", c.strip())
                for c in (alternatives.group(1).split(" or ") if alternatives else [clause])
            ]
            if m := re.fullmatch(r"'([^']+)' in parents", clause):
                parent = m.group(1)
            elif all(wanted):
                mimes = {m.group(1) for m in wanted if m}
            elif re.fullmatch(r"trashed\s*=\s*false", clause) or clause == "":
                pass
            else:
                self.violations.append(f"files.list q clause not modelled: {clause!r}")
                raise bad_request("Invalid Value")
        if parent is not None and not self.folders.get(parent, {}).get("shared"):
            files = []
        else:
            files = [
                s
                for s in self.spreadsheets.values()
                if s.shared
                and not s.deleted
                and (parent is None or parent in s.parents)
                and (mimes is None or s.mime in mimes)
            ]
        size = min(int((query.get("pageSize") or ["100"])[0]), self.page_size_cap)
        start = int((query.get("pageToken") or ["0"])[0])
        page = files[start : start + size]
        reply: dict[str, Any] = {
            "kind": "drive#fileList",
            "incompleteSearch": False,
            "files": [self._file_json(s) for s in page],
        }
        if start + size < len(files):
            reply["nextPageToken"] = str(start + size)
        if "fields" not in query:
            reply = apply_mask(
                reply,
                parse_mask("kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)"),
            )
        return reply

    def _files_get(
        self, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> dict[str, Any]:
        fid = params["fileId"]
        if fid in self.folders and self.folders[fid]["shared"]:
            reply = {
                "kind": "drive#file",
                "id": fid,
                "name": self.folders[fid]["name"],
                "mimeType": FOLDER_MIME,
            }
        else:
            sheet = self.spreadsheets.get(fid)
            if sheet is None or sheet.deleted or not sheet.shared:
                raise Refused(404, drive_not_found(fid))
            if query.get("alt") == ["media"]:
                if sheet.content is None:
                    raise Refused(403, NOT_DOWNLOADABLE)
                return sheet.content  # type: ignore[return-value]
            reply = self._file_json(sheet)
        if "fields" not in query:
            reply = apply_mask(reply, parse_mask("kind,id,name,mimeType"))
        return reply


# -- test helpers -----------------------------------------------------------------------------


@functools.cache
def _private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


CLIENT_EMAIL = "namcoso-sync@huyen-uy-ba-tri.iam.gserviceaccount.com"


def service_account_info() -> dict[str, str]:
    """A service-account key like the JSON Google Cloud Console gives (a fresh RSA key)."""
    return {
        "type": "service_account",
        "project_id": "huyen-uy-ba-tri",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": _private_key_pem(),
        "client_email": CLIENT_EMAIL,
        "client_id": "123456789012345678901",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": TOKEN_URL,
    }


def write_key_file(folder: Path) -> Path:
    path = folder / "service-account.json"
    path.write_text(json.dumps(service_account_info()), encoding="utf-8")
    return path


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it; sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@contextmanager
def running_fake(**kwargs: Any) -> Iterator[FakeGoogle]:
    """A :class:`FakeGoogle` answering every Google URL; fails on any discovery violation."""
    fake = FakeGoogle(**kwargs)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield fake
    assert not fake.violations, "requests that Google would refuse:\n" + "\n".join(fake.violations)


def make_backend(fake: FakeGoogle, master: str, folder: str = "", **kwargs: Any):
    """A GoogleBackend on service-account credentials (token from the fake), a fake clock."""
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    from sync.backends.google import GoogleBackend
    from sync.backends.google_transport import SCOPES

    credentials = service_account.Credentials.from_service_account_info(
        service_account_info(), scopes=SCOPES
    )
    clock = kwargs.pop("clock", None) or FakeClock()
    backend = GoogleBackend(
        master,
        folder,
        session=AuthorizedSession(credentials),
        client_email=CLIENT_EMAIL,
        clock=clock,
        sleep=clock.sleep,
        **kwargs,
    )
    backend.clock = clock  # type: ignore[attr-defined]
    return backend


@dataclass
class World:
    master: str
    folder: str
    communes: list[str]


def build_world(fake: FakeGoogle, n: int = 2, *, urls: bool = True) -> World:
    """A master with the four registry tabs and ``n`` commune sheets in a shared folder.

    Every other commune is registered by its full URL (``…/d/<ID>/edit#gid=0``).
    """
    from sync.layout import commune_layout, master_layout

    m, c = master_layout(), commune_layout()
    folder = fake.add_folder()
    communes, rows = [], []
    for i in range(n):
        code = f"{29110 + i}"
        grids = {
            c["meetings"].title: [[col.header for col in c["meetings"].columns]],
            c["ratings"].title: [
                [col.header for col in c["ratings"].columns],
                [f"Ấp {i}-1", 2018, "Tốt", ""],
            ],
        }
        grids[c["meetings"].title].append(
            [f"Ấp {i}-1", "03/2018", date(2018, 3, 5), 20, 18, "x", True, None]
        )
        sid = fake.add_spreadsheet(f"Báo cáo xã {code}", grids, folder=folder)
        communes.append(sid)
        ref = f"https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0" if urls and i % 2 else sid
        rows.append([code, f"Xã {code}", "Xã", ref, ""])
    registry = {
        m["communes"].title: [[col.header for col in m["communes"].columns], *rows],
        m["hamlets"].title: [[col.header for col in m["hamlets"].columns]]
        + [[f"{29110 + i}-01", f"{29110 + i}", f"Ấp {i}-1", "Ấp", "", 120] for i in range(n)],
        m["cadres"].title: [
            [col.header for col in m["cadres"].columns],
            ["H001", "Nguyễn Văn An", "Huyện", "", "", "0902000001", ""],
        ],
        m["assignments"].title: [
            [col.header for col in m["assignments"].columns],
            ["H001", "29110-01", date(2018, 1, 1), None, ""],
        ],
    }
    master = fake.add_spreadsheet("Tổng hợp Huyện ủy", registry, frozen=1)
    return World(master, folder, communes)
