"""(5) Billing QA from the period close tables: methods, common property, excess, close status."""

from __future__ import annotations

from meterhub.dashboards.spec import DashboardSpec, PanelSpec
from meterhub.dashboards.variables import BUILDING

# Billing periods ('YYYY-MM') that overlap the dashboard's time range (UTC months).
_PERIODS = """
  building_id IN ($building)
  AND period BETWEEN to_char($__timeFrom()::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM')
                 AND to_char($__timeTo()::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM')"""

METHOD_SHARES = PanelSpec(
    key="billing_method_shares",
    title_en="Volumes by method",
    title_ru="Объёмы по способу определения",
    kind="table",
    columns=("period", "service", "method", "accounts", "volume", "share_pct"),
    description="meter / average / normative / area …: the share of each method in a service's volume.",
    sql=f"""
SELECT period, service, method, count(DISTINCT account_no) AS accounts, sum(volume) AS volume,
       round(100 * sum(volume) / nullif(sum(sum(volume)) OVER (PARTITION BY period, service), 0), 2)
           AS share_pct
FROM period_volumes
WHERE {_PERIODS}
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3""",
)

COMMON_PROPERTY = PanelSpec(
    key="billing_common_property",
    title_en="Common property (ОДН) per building",
    title_ru="Общедомовые нужды (ОДН) по дому",
    kind="table",
    columns=(
        "building",
        "period",
        "service",
        "method",
        "house_volume",
        "individual_total",
        "difference",
        "normative_volume",
        "distributed",
        "coefficient",
        "excess",
        "excess_cost",
        "negative",
    ),
    description="coefficient = distributed ÷ normative volume (1 = capped at the normative).",
    sql=f"""
SELECT building_id AS building, period, service, method, house_volume, individual_total, difference,
       normative_volume, distributed, round(distributed / nullif(normative_volume, 0), 4) AS coefficient,
       excess, excess_cost, negative
FROM period_common_property
WHERE {_PERIODS}
ORDER BY 1, 2, 3""",
)

CLOSE_STATUS = PanelSpec(
    key="billing_close_status",
    title_en="Close status per building",
    title_ru="Статус закрытия периода по домам",
    kind="table",
    columns=("building", "period", "status", "computed_at", "closed_at", "accounts", "amount", "excess"),
    value_mappings=(("closed", "closed / закрыт", "green"), ("draft", "draft / черновик", "orange")),
    sql=f"""
SELECT p.building_id AS building, p.period, p.status, p.computed_at, p.closed_at,
       (SELECT count(DISTINCT c.account_no) FROM charge_lines c
         WHERE c.building_id = p.building_id AND c.period = p.period) AS accounts,
       (SELECT sum(c.amount) FROM charge_lines c
         WHERE c.building_id = p.building_id AND c.period = p.period) AS amount,
       (SELECT sum(c.excess) FROM charge_lines c
         WHERE c.building_id = p.building_id AND c.period = p.period) AS excess
FROM billing_periods p
WHERE p.{_PERIODS.strip()}
ORDER BY p.period DESC, p.building_id""",
)

BILLING_QA = DashboardSpec(
    uid="meterhub-billing-qa",
    title_en="Billing QA",
    title_ru="Контроль начислений",
    description="Method shares, common-property coefficient and excess, close status, from the close tables.",
    variables=(BUILDING,),
    panels=(CLOSE_STATUS, METHOD_SHARES, COMMON_PROPERTY),
    time_from="now-6M",
    refresh="",
)
