"""PostgreSQL binary COPY payloads for fixed-width rows, built with numpy (no per-row Python).

Used where per-row Python would dominate: writing millions of hourly rows, loading benchmark data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 minus 1970-01-01, in microseconds
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = _SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"

_SIZES = {"int2": 2, "int4": 4, "int8": 8, "float8": 8, "timestamptz": 8}
_DTYPES = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "timestamptz": ">i8"}


NULL = "null"  # a column type of row_dtype: NULL in every row (a length of -1 and no data)


def row_dtype(types: list[str], names: list[str]) -> np.dtype:
    """The numpy dtype of one binary COPY row of fixed-width columns, NOT NULL except those of type
    ``NULL`` (NULL in every row)."""
    fields: list[tuple[str, str]] = [("_n", ">i2")]
    for i, (t, n) in enumerate(zip(types, names, strict=True)):
        if t == NULL:
            fields.append((f"_null{i}", ">i4"))
            continue
        fields.append((f"_len{i}", ">i4"))
        fields.append((n, _DTYPES[t]))
    return np.dtype(fields)


def fill_rows(dtype: np.dtype, columns: dict[str, npt.ArrayLike]) -> np.ndarray:
    """Binary COPY rows (no header or trailer) for the given columns; scalars fill a whole column."""
    n = max(np.size(c) for c in columns.values())
    rows = np.empty(n, dtype=dtype)
    names: tuple[str, ...] = dtype.names  # type: ignore[assignment]
    rows["_n"] = sum(1 for f in names if f.startswith(("_len", "_null")))
    for k, field in enumerate(names):
        if field.startswith("_null"):
            rows[field] = -1
        elif field.startswith("_len"):
            name = names[k + 1]
            rows[field] = dtype.fields[name][0].itemsize  # type: ignore[index]
            rows[name] = columns[name]
    return rows


def build_rows(dtype: np.dtype, columns: dict[str, npt.ArrayLike]) -> bytes:
    """Binary COPY payload (header, rows, trailer) for the given columns."""
    return HEADER + fill_rows(dtype, columns).tobytes() + TRAILER
