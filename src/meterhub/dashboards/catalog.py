"""All dashboards meterhub ships, in priority order."""

from __future__ import annotations

from meterhub.dashboards.balance import BALANCE
from meterhub.dashboards.billing_qa import BILLING_QA
from meterhub.dashboards.electrical import ELECTRICAL
from meterhub.dashboards.fleet import FLEET
from meterhub.dashboards.ingest import INGEST
from meterhub.dashboards.profiles import PROFILES
from meterhub.dashboards.servicedesk import SERVICE_DESK
from meterhub.dashboards.spec import DashboardSpec, PanelSpec, VariableSpec

DASHBOARDS: tuple[DashboardSpec, ...] = (
    FLEET,
    INGEST,
    BALANCE,
    PROFILES,
    ELECTRICAL,
    BILLING_QA,
    SERVICE_DESK,
)

PANELS: tuple[tuple[DashboardSpec, PanelSpec], ...] = tuple((d, p) for d in DASHBOARDS for p in d.panels)
VARIABLES: tuple[tuple[DashboardSpec, VariableSpec], ...] = tuple(
    (d, v) for d in DASHBOARDS for v in d.variables
)
