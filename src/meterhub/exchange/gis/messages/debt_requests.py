"""Debt requests (debt-requests): parse exportDebtSubrequests results, decide, build importResponses.

Social protection bodies (органы социальной защиты) ask through ГИС ЖКХ whether a person living at an
address has a debt for housing and utilities that is **confirmed by a court decision** (задолженность,
подтверждённая судебным актом — the rule that decides a subsidy or a social-support measure). A subrequest
(подзапрос) names the house (ГИС ЖКХ house GUID and/or ФИАС GUID), the premise in ``addressDetails`` and a
period. The answer (:func:`decide`) is "has debt" only when a court decision in force covers debt periods
inside the requested period and the ledger still shows that debt unpaid; the persons named are the
debtors of those decisions. Debt without a court decision is *not* a debt for these requests.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from lxml import etree

from meterhub.exchange.gis.model import BuiltMessage, GuidFactory, new_message
from meterhub.exchange.gis.validation import validate
from meterhub.exchange.gis.xml import NS, child, guid

__all__ = [
    "MAX_ACTIONS",
    "VERSION",
    "CourtDecision",
    "DebtAnswer",
    "DebtRequestFormatError",
    "Subrequest",
    "build_debt_responses",
    "decide",
    "parse_subrequests",
    "premise_number",
]

VERSION = "14.0.0.0"
MAX_ACTIONS = 100


class DebtRequestFormatError(ValueError):
    """The file is not an exportDebtSubrequests result (or not a valid one)."""


@dataclass(frozen=True, slots=True)
class Subrequest:
    subrequest_guid: str
    request_number: str
    house_guid: str | None
    fias_house_guid: str | None
    address: str
    address_details: str | None
    period_start: date
    period_end: date
    sent_date: date | None
    response_due: date | None
    requester: str


@dataclass(frozen=True, slots=True)
class CourtDecision:
    """A court decision on an account's debt (table ``court_decisions``)."""

    account_no: str
    case_number: str
    court: str
    decided_on: date
    in_force_on: date
    debt_from: str
    debt_to: str
    amount_kopecks: int
    last_name: str
    first_name: str
    middle_name: str | None
    snils: str | None
    repaid_on: date | None


@dataclass(frozen=True, slots=True)
class DebtAnswer:
    subrequest_guid: str
    has_debt: bool
    decisions: tuple[CourtDecision, ...]
    """The decisions that confirm the debt (empty when there is none)."""
    unpaid_kopecks: int
    """Unpaid ledger debt of the periods those decisions cover (within the requested period)."""
    description: str


def _text(el: etree._Element, path: str) -> str | None:
    found = el.find(path, namespaces={"d": NS["drs"], "b": NS["base"]})
    return found.text.strip() if found is not None and found.text else None


def _date(el: etree._Element, path: str) -> date | None:
    text = _text(el, path)
    return date.fromisoformat(text[:10]) if text else None


def parse_subrequests(data: bytes) -> list[Subrequest]:
    """The subrequests of an exportDebtSubrequests getState result (bare or inside a SOAP envelope).

    The result element is validated against the shipped schema first, so a damaged file is refused with
    the element that is wrong.
    """
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError as exc:
        raise DebtRequestFormatError(f"not XML: {exc}") from None
    results = root.xpath("//drs:getStateResult", namespaces=NS)
    if not results:
        raise DebtRequestFormatError(
            "no drs:getStateResult element: expected the getState result of exportDebtSubrequests"
        )
    subrequests: list[Subrequest] = []
    for result in results:
        try:
            validate(result, "debt-requests", "exportDebtSubrequests result")
        except ValueError as exc:
            raise DebtRequestFormatError(str(exc)) from None
        for data_el in result.iterfind("d:exportDSRsResult/d:subrequestData", namespaces={"d": NS["drs"]}):
            info = "d:requestInfo/"
            house = info + "d:housingFundObject/"
            subrequests.append(
                Subrequest(
                    subrequest_guid=_text(data_el, "d:subrequestGUID") or "",
                    request_number=_text(data_el, info + "d:requestNumber") or "",
                    house_guid=_text(data_el, house + "d:houseGUID"),
                    fias_house_guid=_text(data_el, house + "d:fiasHouseGUID"),
                    address=_text(data_el, house + "d:address") or "",
                    address_details=_text(data_el, house + "d:addressDetails"),
                    period_start=_date(data_el, info + "d:period/b:startDate") or date.min,
                    period_end=_date(data_el, info + "d:period/b:endDate") or date.max,
                    sent_date=_date(data_el, info + "d:sentDate"),
                    response_due=_date(data_el, info + "d:responseDate"),
                    requester=_text(data_el, info + "d:organization/d:name") or "",
                )
            )
    return subrequests


_PREMISE_RE = re.compile(
    r"(?:кв(?:артира)?|пом(?:ещение)?|комн(?:ата)?)?\.?\s*№?\s*([0-9]+[А-Яа-яA-Za-z]?)", re.I
)


def premise_number(address_details: str | None) -> str | None:
    """The premise number of ``addressDetails`` (``кв. 12`` → ``12``, ``пом. 3А`` → ``3А``), or None."""
    if not address_details:
        return None
    match = _PREMISE_RE.search(address_details)
    return match.group(1) if match else None


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def decide(
    subrequest: Subrequest,
    decisions: Sequence[CourtDecision],
    unpaid: Mapping[str, Mapping[str, int]],
    answered_on: date,
) -> DebtAnswer:
    """The answer to one subrequest from the decisions of the premise's accounts and the ledger.

    ``unpaid`` maps account → debt period (``YYYY-MM``) → kopecks still owed (principal and penalties).
    A decision confirms a debt when it is in force on ``answered_on``, not repaid by then, its debt
    periods overlap the requested period, and the ledger still shows debt in the overlap.
    """
    first, last = _month(subrequest.period_start), _month(subrequest.period_end)
    confirming: list[CourtDecision] = []
    unpaid_total = 0
    for decision in decisions:
        if decision.in_force_on > answered_on:
            continue
        if decision.repaid_on is not None and decision.repaid_on <= answered_on:
            continue
        low, high = max(first, decision.debt_from), min(last, decision.debt_to)
        if low > high:
            continue
        owed = sum(
            k for period, k in unpaid.get(decision.account_no, {}).items() if low <= period <= high and k > 0
        )
        if owed > 0:
            confirming.append(decision)
            unpaid_total += owed
    if confirming:
        cases = "; ".join(
            f"дело № {d.case_number} от {d.decided_on:%d.%m.%Y} ({d.court})".replace(" ()", "")
            for d in confirming
        )
        description = (
            f"Имеется задолженность за ЖКУ, подтверждённая судебным актом: {cases}; "
            f"не погашено {unpaid_total // 100}.{unpaid_total % 100:02d} руб."
        )
    else:
        description = "Задолженность за ЖКУ, подтверждённая судебным актом, за указанный период отсутствует."
    return DebtAnswer(
        subrequest.subrequest_guid, bool(confirming), tuple(confirming), unpaid_total, description
    )


def build_debt_responses(
    answers: Sequence[DebtAnswer], executor_guid: uuid.UUID | str, new_guid: GuidFactory
) -> BuiltMessage:
    """``importDSRResponsesRequest``: one ``Send`` action per answer, the debtors as ``debtInfo``."""
    if not answers:
        raise ValueError("no answers to send")
    built = new_message(
        "importResponses", "drs:importDSRResponsesRequest", VERSION, len(answers), MAX_ACTIONS, "answers"
    )
    body = built.body
    for answer in answers:
        action = child(body, "drs:action")
        built.add_transport_guid(action, "debt_response", answer.subrequest_guid, new_guid)
        child(action, "drs:subrequestGUID", guid(answer.subrequest_guid))
        child(action, "drs:actionType", "Send")
        data = child(action, "drs:responseData")
        child(data, "drs:hasDebt", answer.has_debt)
        child(data, "drs:description", answer.description[:1000])
        child(data, "drs:executorGUID", guid(executor_guid))
        seen: set[tuple[str, str, str | None]] = set()
        for decision in answer.decisions:
            person_key = (decision.last_name, decision.first_name, decision.middle_name)
            if person_key in seen:
                continue
            seen.add(person_key)
            info = child(data, "drs:debtInfo")
            person = child(info, "drs:person")
            child(person, "drs:firstName", decision.first_name)
            child(person, "drs:lastName", decision.last_name)
            if decision.middle_name:
                child(person, "drs:middleName", decision.middle_name)
            if decision.snils:
                child(person, "drs:snils", decision.snils)
    return built
