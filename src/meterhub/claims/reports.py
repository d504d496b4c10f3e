"""Reports of the legal department and the reconciliation list for the bailiffs (ФССП), as rows and XLSX.

* by state — cases, claimed (principal + penalties), awarded, collected (money under the court acts that
  paid the case's debts), court costs paid, awarded and recovered;
* by building — the same and the collection rate: collected / awarded [%] (of the cases with a court act);
* the ФССП list — active proceedings (state ``enforcement``) with the awarded debt and costs, what was
  collected and what remains, the date sent and the proceeding's number and bailiffs' office as recorded
  on the enforcement step (details ``proceeding``, ``office``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import psycopg

from meterhub.claims.lifecycle import CaseState

__all__ = ["CaseTotals", "FsspRow", "cases_by_building", "cases_by_state", "fssp_list", "reports_xlsx"]


@dataclass(frozen=True, slots=True)
class CaseTotals:
    key: str
    """The state or the building."""
    cases: int
    claimed: int
    awarded: int
    collected: int
    costs_paid: int
    costs_awarded: int
    costs_recovered: int

    @property
    def collection_rate(self) -> Decimal | None:
        """collected / awarded [%], one decimal; ``None`` without an award."""
        if not self.awarded:
            return None
        return (Decimal(self.collected) * 100 / self.awarded).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class FsspRow:
    case_id: int
    case_number: str
    court: str
    account_no: str
    address: str
    debtors: str
    sent_on: date
    proceeding: str
    office: str
    awarded: int
    costs_awarded: int
    collected: int
    remaining: int


_TOTALS = """
WITH money AS (  -- less what rulings reversing execution returned (поворот исполнения)
    SELECT case_id, sum(debts) AS collected, sum(costs) AS recovered FROM (
        SELECT case_id, to_debts_kopecks AS debts, to_costs_kopecks AS costs FROM claims_writ_receipts
        UNION ALL
        SELECT case_id, -from_debts_kopecks, -from_costs_kopecks FROM claims_execution_reversals
    ) m GROUP BY case_id
), costs AS (
    SELECT case_id, sum(paid_kopecks) AS paid, sum(awarded_kopecks) AS awarded
      FROM claims_case_costs GROUP BY case_id
)
SELECT {key}, count(*), sum(c.principal_kopecks + c.penalty_kopecks), coalesce(sum(c.awarded_kopecks), 0),
       coalesce(sum(m.collected), 0), coalesce(sum(k.paid), 0), coalesce(sum(k.awarded), 0),
       coalesce(sum(m.recovered), 0)
  FROM claims_cases c LEFT JOIN money m USING (case_id) LEFT JOIN costs k USING (case_id)
 WHERE %(building)s::text IS NULL OR c.building_id = %(building)s
 GROUP BY 1 ORDER BY 1
"""


def _totals(conn: psycopg.Connection, key: str, building_id: str | None) -> list[CaseTotals]:
    rows = conn.execute(_TOTALS.format(key=key), {"building": building_id}).fetchall()
    return [CaseTotals(str(r[0]), *(int(x) for x in r[1:])) for r in rows]


def cases_by_state(conn: psycopg.Connection, building_id: str | None = None) -> list[CaseTotals]:
    """Totals per case state, in the order of the case's life."""
    order = {state.value: i for i, state in enumerate(CaseState)}
    return sorted(_totals(conn, "c.state", building_id), key=lambda t: order[t.key])


def cases_by_building(conn: psycopg.Connection) -> list[CaseTotals]:
    return _totals(conn, "c.building_id", None)


def fssp_list(conn: psycopg.Connection) -> list[FsspRow]:
    """Active proceedings with the remaining amounts, oldest sent first."""
    rows = conn.execute(
        """
        SELECT c.case_id, c.case_number, c.court_name, c.account_no, b.address || ', кв. ' || a.premise_no,
               (SELECT string_agg(full_name, '; ' ORDER BY debtor_no) FROM claims_case_debtors d
                 WHERE d.case_id = c.case_id),
               s.happened_on, coalesce(s.details->>'proceeding', ''), coalesce(s.details->>'office', ''),
               coalesce(c.awarded_kopecks, 0),
               (SELECT coalesce(sum(awarded_kopecks), 0) FROM claims_case_costs k
                 WHERE k.case_id = c.case_id),
               (SELECT coalesce(sum(to_debts_kopecks + to_costs_kopecks), 0) FROM claims_writ_receipts r
                 WHERE r.case_id = c.case_id)
               - (SELECT coalesce(sum(amount_kopecks), 0) FROM claims_execution_reversals v
                   WHERE v.case_id = c.case_id)
          FROM claims_cases c JOIN accounts a USING (account_no)
          JOIN buildings b ON b.building_id = c.building_id
          JOIN LATERAL (SELECT * FROM claims_case_steps x
                         WHERE x.case_id = c.case_id AND x.state = 'enforcement'
                         ORDER BY happened_on DESC, step_id DESC LIMIT 1) s ON true
         WHERE c.state = 'enforcement'
         ORDER BY s.happened_on, c.case_id
        """
    ).fetchall()
    return [
        FsspRow(*r[:9], int(r[9]), int(r[10]), int(r[11]), max(0, int(r[9]) + int(r[10]) - int(r[11])))
        for r in rows
    ]


def _rub(kopecks: int) -> Decimal:
    return Decimal(kopecks).scaleb(-2)


def reports_xlsx(conn: psycopg.Connection) -> bytes:
    """The workbook: «По состояниям», «По домам», «Сверка ФССП» (amounts in rubles, number format)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    money = "#,##0.00"
    head = [
        "Дел",
        "Предъявлено, ₽",
        "Присуждено, ₽",
        "Взыскано, ₽",
        "Расходы уплачены, ₽",
        "Расходы присуждены, ₽",
        "Расходы возмещены, ₽",
    ]

    def totals_sheet(sheet, title: str, rows: list[CaseTotals], first: str, label) -> None:
        sheet.title = title
        columns = [first, *head, "Собираемость, %"]
        sheet.append(columns)
        for t in rows:
            rate = t.collection_rate
            sheet.append(
                [
                    label(t.key),
                    t.cases,
                    *(
                        _rub(x)
                        for x in (
                            t.claimed,
                            t.awarded,
                            t.collected,
                            t.costs_paid,
                            t.costs_awarded,
                            t.costs_recovered,
                        )
                    ),
                    float(rate) if rate is not None else None,
                ]
            )
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in sheet.iter_rows(min_row=2, min_col=3, max_col=8):
            for cell in row:
                cell.number_format = money
        sheet.column_dimensions["A"].width = 34

    totals_sheet(
        book.active, "По состояниям", cases_by_state(conn), "Состояние", lambda k: CaseState(k).title_ru
    )
    totals_sheet(book.create_sheet(), "По домам", cases_by_building(conn), "Дом", lambda k: k)
    sheet = book.create_sheet("Сверка ФССП")
    sheet.append(
        [
            "Дело",
            "Номер дела",
            "Суд",
            "Лицевой счёт",
            "Адрес",
            "Должники",
            "Направлен",
            "ИП №",
            "Отделение",
            "Присуждено, ₽",
            "Расходы, ₽",
            "Взыскано, ₽",
            "Остаток, ₽",
        ]
    )
    for r in fssp_list(conn):
        sheet.append(
            [
                r.case_id,
                r.case_number,
                r.court,
                r.account_no,
                r.address,
                r.debtors,
                r.sent_on,
                r.proceeding,
                r.office,
                _rub(r.awarded),
                _rub(r.costs_awarded),
                _rub(r.collected),
                _rub(r.remaining),
            ]
        )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2, min_col=10, max_col=13):
        for cell in row:
            cell.number_format = money
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
