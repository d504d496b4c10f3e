"""Benefits of a period (the close's money step, after the service recalculations): every assignment in
force on the period's first day × every service of its category → a benefit line (``benefit_lines``, both
regimes). Discount-regime benefits are also written, summed per account and service, as
``service_recalculation_lines`` with ``reason_kind = 'benefit'`` (a negative amount), so the ledger, the
penalties and the receipt («льготы, субсидии» column) all see them. Re-running a draft close replaces them.

Inputs: the period's charge lines (``P``, and ``V`` from the individual lines), the persons per account
(the passport office register where the building keeps it, else ``resident_counts``: ``n``), the premise's
area (``S``), the per-person normative in force (``N``). See :mod:`.rules` and docs/benefits.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from meterhub.billing.close.repository import normatives_on, residents_on
from meterhub.billing.rules.benefits import BenefitBase, BenefitCategory, BenefitInput, benefit_amount
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import to_kopecks

__all__ = ["BenefitLine", "categories_on", "run_benefits", "subsidy_accounts"]


@dataclass(frozen=True, slots=True)
class BenefitLine:
    account_no: str
    assignment_id: int
    service: str
    category: str
    regime: str
    charge_kopecks: int
    amount_exact: Decimal
    amount_kopecks: int
    formula: str


def categories_on(conn: psycopg.Connection, day: date) -> dict[str, BenefitCategory]:
    """The benefit categories in force on ``day`` (the latest row of each category from on or before it)."""
    rows = conn.execute(
        "SELECT DISTINCT ON (category) category, name, services, base, share, amount_kopecks, social_norm_m2,"
        " persons_covered, legal_basis, regime FROM benefit_categories WHERE valid_from <= %s"
        " ORDER BY category, valid_from DESC",
        (day,),
    )
    return {
        cat: BenefitCategory(
            cat, name, tuple(services), BenefitBase(base), share,
            Decimal(amount).scaleb(-2) if amount is not None else None, norm, covered == "household",
            basis, regime,
        )
        for cat, name, services, base, share, amount, norm, covered, basis, regime in rows
    }  # fmt: skip


def _formula(category: BenefitCategory) -> str:
    who = "c = n" if category.household else "c = 1"
    if category.amount is not None:
        return f"L = min({category.amount} ₽ × c, P); {who}"
    return {
        BenefitBase.CHARGE: f"L = {category.share} × P × c / n; {who}",
        BenefitBase.SOCIAL_NORM_AREA: (
            f"L = {category.share} × P × min(c × S / n, c × {category.social_norm_m2} м²) / S; {who}"
        ),
        BenefitBase.NORMATIVE_VOLUME: f"L = {category.share} × P × min(c × V / n, c × N) / V; {who}",
    }[category.base]


def run_benefits(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> list[BenefitLine]:
    """Compute and store the benefits of ``period`` for ``building_id`` (replacing earlier ones)."""
    text = str(period)
    day = period.first_day
    conn.execute("DELETE FROM benefit_lines WHERE building_id = %s AND period = %s", (building_id, text))
    conn.execute(
        "DELETE FROM service_recalculation_lines WHERE building_id = %s AND period = %s"
        " AND reason_kind = 'benefit'",
        (building_id, text),
    )
    assignments = conn.execute(
        "SELECT b.assignment_id, b.account_no, b.category, p.area FROM benefit_assignments b"
        " JOIN accounts a USING (account_no) JOIN premises p ON p.building_id = a.building_id"
        " AND p.premise_no = a.premise_no"
        " WHERE a.building_id = %s AND b.valid_from <= %s AND (b.valid_to IS NULL OR b.valid_to > %s)"
        " ORDER BY b.account_no, b.assignment_id",
        (building_id, day, day),
    ).fetchall()
    if not assignments:
        return []
    categories = categories_on(conn, day)
    charges: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for account_no, service, amount, volume in conn.execute(
        "SELECT account_no, service, sum(amount), coalesce(sum(volume) FILTER (WHERE kind = 'individual'), 0)"
        " FROM charge_lines WHERE building_id = %s AND period = %s AND account_no = ANY(%s)"
        " GROUP BY account_no, service",
        (building_id, text, sorted({a[1] for a in assignments})),
    ):
        charges[(account_no, service)] = (amount, volume)
    persons = residents_on(conn, building_id, day)
    normatives = normatives_on(conn, building_id, day)
    lines: list[BenefitLine] = []
    for assignment_id, account_no, category_id, area in assignments:
        category = categories.get(category_id)
        if category is None:
            continue  # a category not in force on that day gives nothing
        for service in category.services:
            if (account_no, service) not in charges:
                continue
            charge, volume = charges[(account_no, service)]
            normative = normatives.get((service, "per_person"))
            data = BenefitInput(charge, persons.get(account_no, 0), Decimal(area), volume, normative)
            exact, rounded = benefit_amount(category, data)
            if rounded:
                lines.append(
                    BenefitLine(
                        account_no, assignment_id, service, category.category, category.regime,
                        to_kopecks(charge), exact, to_kopecks(rounded), _formula(category),
                    )
                )  # fmt: skip
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO benefit_lines (building_id, period, account_no, assignment_id, service, category,"
            " regime, charge_kopecks, amount_exact, amount_kopecks, formula)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(building_id, text, x.account_no, x.assignment_id, x.service, x.category, x.regime,
              x.charge_kopecks, x.amount_exact, x.amount_kopecks, x.formula) for x in lines],
        )  # fmt: skip
        discount: dict[tuple[str, str], list[BenefitLine]] = defaultdict(list)
        for x in lines:
            if x.regime == "discount":
                discount[(x.account_no, x.service)].append(x)
        cur.executemany(
            "INSERT INTO service_recalculation_lines (building_id, period, account_no, service, reason_kind,"
            " basis_kopecks, quantity, amount_exact, amount_kopecks, reason, formula)"
            " VALUES (%s, %s, %s, %s, 'benefit', %s, %s, %s, %s, %s, %s)",
            [
                (building_id, text, account_no, service, group[0].charge_kopecks, len(group),
                 -sum(x.amount_exact for x in group), -sum(x.amount_kopecks for x in group),
                 "льгота: " + ", ".join(categories[x.category].name for x in group), group[0].formula)
                for (account_no, service), group in discount.items()
            ],
        )  # fmt: skip
    return lines


def subsidy_accounts(conn: psycopg.Connection, account_nos: list[str], day: date) -> dict[str, list[str]]:
    """Accounts with a housing subsidy decision in force on ``day`` → the decision numbers (субсидия)."""
    result: dict[str, list[str]] = {}
    for account_no, decision in conn.execute(
        "SELECT account_no, decision_no FROM subsidy_recipients WHERE account_no = ANY(%s)"
        " AND valid_from <= %s AND (valid_to IS NULL OR valid_to > %s) ORDER BY account_no, decision_no",
        (account_nos, day, day),
    ):
        result.setdefault(account_no, []).append(decision)
    return result
