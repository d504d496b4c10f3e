"""Expand a panel's SQL the way Grafana does before it reaches PostgreSQL (for tests and benchmarks).

Two stages, as in Grafana:

1. The frontend interpolates template variables (``$var``, ``${var}``, ``[[var]]``) and the global
   ``$__interval`` / ``$__interval_ms``. The SQL data sources format a multi-value or include-All
   variable as quoted, comma-separated literals (``'a','b'``, quotes doubled); a single-value variable
   is inserted with its quotes doubled but not quoted.
2. The backend's PostgreSQL macro engine (``pkg/tsdb/grafana-postgresql-datasource/macros.go``) replaces
   ``$__name(args)`` (arguments split on commas, no nested parentheses): ``$__timeFilter(c)`` →
   ``c BETWEEN '<from>' AND '<to>'`` (RFC 3339 UTC), ``$__timeFrom()`` / ``$__timeTo()`` → the quoted
   instants, ``$__timeGroup(c, iv[, fill])`` → ``floor(extract(epoch from c)/S)*S``
   (``time_bucket('S.sss s',c)`` with the TimescaleDB toggle), ``$__timeGroupAlias`` → the same
   ``AS "time"``, ``$__time(c)`` → ``c AS "time"``, ``$__timeEpoch(c)``, ``$__unixEpochFilter(c)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")
_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^\}]+))?\}")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_INTERVAL = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$")


class MacroError(ValueError):
    pass


def parse_interval(text: str) -> timedelta:
    """Grafana's interval notation (``30s``, ``5m``, ``1h``, ``1d``, ``1w``, ``100ms``)."""
    m = _INTERVAL.match(text.strip().strip("'"))
    if not m:
        raise MacroError(f"error parsing interval {text}")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def go_float(x: float) -> str:
    """``fmt.Sprintf("%v", x)`` for a float64: shortest digits, exponent form from 1e+06 on (and < 1e-4)."""
    if x == 0:
        return "0"
    r = repr(float(x))
    mantissa, _, exp_s = r.partition("e")
    exp = int(exp_s) if exp_s else (math.floor(math.log10(abs(x))))
    digits = mantissa.replace("-", "").replace(".", "").lstrip("0").rstrip("0") or "0"
    if -4 <= exp < 6:
        if exp_s:  # repr used an exponent Go would not: write it out
            return format(x, "f").rstrip("0").rstrip(".")
        return r[:-2] if r.endswith(".0") else r
    sign = "-" if x < 0 else ""
    body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{body}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"


def _rfc3339(t: datetime) -> str:
    t = t.astimezone(UTC)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += ("." + f"{t.microsecond:06d}").rstrip("0")
    return s + "Z"


@dataclass(frozen=True)
class QueryContext:
    """What Grafana knows when it runs a panel: time range, interval, variables, the TimescaleDB toggle."""

    time_from: datetime
    time_to: datetime
    interval: str = "1h"
    variables: Mapping[str, str | Sequence[str]] = None  # type: ignore[assignment]
    multi: frozenset[str] = frozenset({"building", "resource", "meter"})
    timescaledb: bool = False


def _quote(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def interpolate_variables(sql: str, ctx: QueryContext) -> str:
    values: dict[str, str | Sequence[str]] = dict(ctx.variables or {})
    iv = parse_interval(ctx.interval)
    values["__interval"] = ctx.interval
    values["__interval_ms"] = str(int(iv.total_seconds() * 1000))

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        if name not in values:
            return m.group(0)  # a macro or an unknown name: left for the backend
        value = values[name]
        if name.startswith("__"):
            return str(value)
        if isinstance(value, str):
            return _quote(value) if name in ctx.multi else value.replace("'", "''")
        return ",".join(_quote(v) for v in value)

    return _VARIABLE.sub(repl, sql)


def _evaluate(name: str, args: list[str], ctx: QueryContext) -> str:
    frm, to = _rfc3339(ctx.time_from), _rfc3339(ctx.time_to)
    if name in ("__time", "__timeEpoch", "__timeFilter", "__unixEpochFilter") and not args[0]:
        raise MacroError(f"missing time column argument for macro {name}")
    if name == "__time":
        return f'{args[0]} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {args[0]}) as "time"'
    if name == "__timeFilter":
        return f"{args[0]} BETWEEN '{frm}' AND '{to}'"
    if name == "__timeFrom":
        return f"'{frm}'"
    if name == "__timeTo":
        return f"'{to}'"
    if name == "__unixEpochFilter":
        lo, hi = (
            math.floor(ctx.time_from.timestamp()),
            math.floor(ctx.time_to.timestamp()),
        )  # Go's Time.Unix()
        return f"{args[0]} >= {lo} AND {args[0]} <= {hi}"
    if name in ("__timeGroup", "__timeGroupAlias"):
        if len(args) < 2:
            raise MacroError(f"macro {name} needs time column and interval and optional fill value")
        seconds = parse_interval(args[1]).total_seconds()
        if ctx.timescaledb:
            group = f"time_bucket('{seconds:.3f}s',{args[0]})"
        else:
            group = f"floor(extract(epoch from {args[0]})/{go_float(seconds)})*{go_float(seconds)}"
        return group + (' AS "time"' if name == "__timeGroupAlias" else "")
    raise MacroError(f"unknown macro {name!r}")


def expand_macros(sql: str, ctx: QueryContext) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        # Grafana: "$__timeGroup(...)," (followed by a comma) is the pre-5.3 form that adds AS "time"
        if name == "__timeGroup" and sql[m.end() : m.end() + 1] == ",":
            name = "__timeGroupAlias"
        args = [a.strip(" ") for a in m.group(2).split(",")]
        return _evaluate(name, args, ctx)

    return _MACRO.sub(repl, sql)


def expand(sql: str, ctx: QueryContext) -> str:
    """Template variables first (frontend), then the PostgreSQL macros (backend)."""
    return expand_macros(interpolate_variables(sql, ctx), ctx)
