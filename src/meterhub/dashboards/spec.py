"""A panel as data: its SQL, the columns it returns and how Grafana draws it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

PanelKind = Literal[
    "timeseries", "bars", "table", "stat", "state-timeline", "status-history", "heatmap-table"
]
QueryFormat = Literal["time_series", "table"]


@dataclass(frozen=True)
class Threshold:
    value: float | None  # None: the base step
    color: str


@dataclass(frozen=True)
class PanelSpec:
    """One panel. ``columns`` are the result columns the visualisation needs, in order."""

    key: str
    title_en: str
    title_ru: str
    kind: PanelKind
    sql: str
    columns: tuple[str, ...]
    fmt: QueryFormat = "table"
    unit: str = ""
    description: str = ""
    width: int = 12
    height: int = 8
    min_interval: str | None = None  # e.g. "1h" for panels over the hourly series
    thresholds: tuple[Threshold, ...] = ()
    value_mappings: tuple[tuple[str, str, str], ...] = ()  # (value, text, color)
    decimals: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.title_ru} / {self.title_en}"


@dataclass(frozen=True)
class VariableSpec:
    """A query variable; ``multi`` variables include "All" and expand to quoted, comma-separated values."""

    name: str
    label: str
    sql: str
    multi: bool = True


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title_en: str
    title_ru: str
    description: str
    panels: tuple[PanelSpec, ...]
    variables: tuple[VariableSpec, ...]
    time_from: str = "now-7d"
    refresh: str = "1m"
    tags: tuple[str, ...] = ("meterhub",)

    @property
    def title(self) -> str:
        return f"{self.title_ru} / {self.title_en}"
