"""How the stages fit together: the list of packages that ship migrations, in dependency order."""

from __future__ import annotations

MIGRATION_SOURCES: tuple[str, ...] = (
    "meterhub.timeseries",
    "meterhub.billing",
    "meterhub.api",
    "meterhub.registry",  # refers to billing premises and api users (0400–0409)
    "meterhub.exchange",  # reads billing accounts and money (0300–0309)
)
