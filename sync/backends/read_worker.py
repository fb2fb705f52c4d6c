"""The process that parses untrusted workbooks for :mod:`sync.backends.safe_read`.

Run as a script (``python -I read_worker.py MEMORY_BYTES``), it imports nothing from
``sync``: it caps its own address space, then answers requests on stdin until stdin
closes. A request and an answer are each an 8-byte big-endian length then a pickle.
A parser that aborts (python-calamine asking for 512 GiB on a sparse sheet) or runs out
of memory ends this process only; the parent sees the pipe close and starts a new one.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import sys
from datetime import date, datetime
from typing import Any


def _limit_memory(limit: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the parent's timeout still holds
        return
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort leaves no core file


def _value(value: Any) -> Any:
    """A calamine cell value as openpyxl gives it."""
    if value == "":
        return None
    if value.__class__ is float and value.is_integer():
        return int(value)
    if value.__class__ is date:
        return datetime(value.year, value.month, value.day)
    return value


def _with_calamine(data: bytes, wanted: set[str] | None) -> dict[str, list[list[Any]]]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        return {
            name: [[_value(v) for v in row] for row in wb.get_sheet_by_name(name).to_python()]
            for name in wb.sheet_names
            if wanted is None or name in wanted
        }
    finally:
        wb.close()


def _with_openpyxl(data: bytes, wanted: set[str] | None) -> dict[str, list[list[Any]]]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {
            ws.title: [list(row) for row in ws.iter_rows(values_only=True)]
            for ws in wb
            if wanted is None or ws.title in wanted
        }
    finally:
        wb.close()


def read(data: bytes, wanted: set[str] | None, engine: str) -> dict[str, list[list[Any]]]:
    """Every tab (or the ``wanted`` ones) as raw values. ``engine`` is "calamine", or
    "openpyxl" for an .xlsx holding error cells (calamine reads ``#VALUE!`` as empty);
    an .xlsx calamine cannot read is tried with openpyxl before it is called broken."""
    if engine == "openpyxl":
        return _with_openpyxl(data, wanted)
    try:
        return _with_calamine(data, wanted)
    except MemoryError:
        raise
    except Exception:
        if engine != "calamine-or-openpyxl":
            raise
    return _with_openpyxl(data, wanted)


def _read_exact(stream, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def main() -> None:
    _limit_memory(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # a stray print cannot corrupt the answers
    while True:
        head = _read_exact(requests, 8)
        if head is None:
            return
        body = _read_exact(requests, struct.unpack(">Q", head)[0])
        if body is None:
            return
        data, wanted, engine = pickle.loads(body)
        try:
            answer: tuple = ("ok", read(data, wanted, engine))
        except MemoryError:
            answer = ("memory", "")
        except RecursionError:
            answer = ("corrupt", "RecursionError")
        except Exception as e:  # whatever a hostile file makes a parser raise
            answer = ("corrupt", f"{type(e).__name__}: {e}"[:300])
        del data
        try:
            payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", ""))
        answers.write(struct.pack(">Q", len(payload)) + payload)
        answers.flush()


if __name__ == "__main__":
    main()
