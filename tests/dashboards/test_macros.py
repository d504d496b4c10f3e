"""The expander reproduces Grafana's PostgreSQL macro engine (cases as in Grafana's macros_test.go) and
the SQL data sources' template-variable formatting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from meterhub.dashboards.macros import MacroError, QueryContext, expand, go_float

FROM = datetime(2018, 4, 12, 18, 0, tzinfo=UTC)
TO = datetime(2018, 4, 12, 18, 5, tzinfo=UTC)


def ctx(**kw) -> QueryContext:
    return QueryContext(time_from=FROM, time_to=TO, **kw)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "WHERE $__timeFilter(time_column)",
            "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'",
        ),
        ("select $__timeFrom()", "select '2018-04-12T18:00:00Z'"),
        ("select $__timeTo()", "select '2018-04-12T18:05:00Z'"),
        (
            "GROUP BY $__timeGroup(time_column,'5m')",
            "GROUP BY floor(extract(epoch from time_column)/300)*300",
        ),
        ("GROUP BY $__timeGroup(time_column, 5m)", "GROUP BY floor(extract(epoch from time_column)/300)*300"),
        (
            "GROUP BY $__timeGroup(time_column, '5m', NULL)",
            "GROUP BY floor(extract(epoch from time_column)/300)*300",
        ),
        (
            "select $__timeGroupAlias(time_column,'5m')",
            'select floor(extract(epoch from time_column)/300)*300 AS "time"',
        ),
        (
            "select $__timeGroup(time_column,'5m'), v",  # pre-5.3 form: followed by a comma → alias
            'select floor(extract(epoch from time_column)/300)*300 AS "time", v',
        ),
        ("select $__time(time_column)", 'select time_column AS "time"'),
        ("select $__timeEpoch(time)", 'select extract(epoch from time) as "time"'),
        ("WHERE $__unixEpochFilter(c)", "WHERE c >= 1523556000 AND c <= 1523556300"),
        ("GROUP BY $__timeGroup(t, 30d)", "GROUP BY floor(extract(epoch from t)/2.592e+06)*2.592e+06"),
        ("$__timeGroup(time_column , '5m')", "floor(extract(epoch from time_column)/300)*300"),
        (
            "SELECT $__timeGroup(time_column,'5m') as time, value",
            "SELECT floor(extract(epoch from time_column)/300)*300 as time, value",
        ),
    ],
)
def test_macros_expand_as_grafana(sql: str, expected: str) -> None:
    assert expand(sql, ctx()) == expected


def test_timescaledb_toggle_uses_time_bucket() -> None:
    sql = "GROUP BY $__timeGroup(time_column,'5m')"
    assert expand(sql, ctx(timescaledb=True)) == "GROUP BY time_bucket('300.000s',time_column)"


@pytest.mark.parametrize(
    ("interval", "bucket"), [("'5m'", "300.000s"), ("'12d'", "1036800.000s"), ("'20ms'", "0.020s")]
)
def test_timescaledb_bucket_widths(interval: str, bucket: str) -> None:
    sql = f"GROUP BY $__timeGroup(time_column , {interval})"
    assert expand(sql, ctx(timescaledb=True)) == f"GROUP BY time_bucket('{bucket}',time_column)"


def test_fractional_seconds_and_dates_before_1970() -> None:
    c = QueryContext(
        time_from=datetime(1960, 2, 1, 7, 0, 0, 500000, tzinfo=UTC),
        time_to=datetime(1980, 2, 3, 8, 0, 0, 500000, tzinfo=UTC),
    )
    assert expand("WHERE $__timeFilter(t)", c) == (
        "WHERE t BETWEEN '1960-02-01T07:00:00.5Z' AND '1980-02-03T08:00:00.5Z'"
    )
    assert expand("$__unixEpochFilter(t)", c) == "t >= -312915600 AND t <= 318412800"


def test_panel_sql_has_no_comments() -> None:
    """Recent Grafana strips SQL comments before expanding macros; without comments every version
    sends the same SQL."""
    from meterhub.dashboards.catalog import PANELS, VARIABLES

    for sql in [p.sql for _, p in PANELS] + [v.sql for _, v in VARIABLES]:
        assert "--" not in sql and "/*" not in sql


def test_interval_and_variables() -> None:
    c = ctx(
        interval="1h", variables={"building": ["B-1", "O'Neil"], "resource": "heat", "tz": "Europe/Moscow"}
    )
    sql = "$__timeGroupAlias(hour, $__interval) $__interval_ms b IN ($building) k IN (${resource}) z=[[tz]]"
    assert expand(sql, c) == (
        'floor(extract(epoch from hour)/3600)*3600 AS "time" 3600000 '
        "b IN ('B-1','O''Neil') k IN ('heat') z=Europe/Moscow"
    )


def test_unknown_macro_and_bad_interval_are_errors() -> None:
    with pytest.raises(MacroError):
        expand("$__nope(x)", ctx())
    with pytest.raises(MacroError):
        expand("$__timeGroup(x, fortnight)", ctx())


def test_go_float_formatting() -> None:
    assert [go_float(x) for x in (3600.0, 0.5, 604800.0, 1e6, 1.5e-5)] == [
        "3600",
        "0.5",
        "604800",
        "1e+06",
        "1.5e-05",
    ]
