"""How the stages fit together: the list of packages that ship migrations, in dependency order."""

from __future__ import annotations

MIGRATION_SOURCES: tuple[str, ...] = ("meterhub.timeseries", "meterhub.billing", "meterhub.api")
