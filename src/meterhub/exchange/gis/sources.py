"""Loading what the messages carry from meterhub's database (the I/O side of :mod:`.messages`).

Everything is read as the billing stage stored it — buildings, premises, accounts and resident counts,
meter links and readings, payments — joined with the identifiers ГИС ЖКХ returned (``gis_identifiers``)
and the НСИ mapping (``gis_nsi_refs``). Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

import psycopg

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.exchange.gis.account_payers import PremiseAccount, account_payers
from meterhub.exchange.gis.identifiers import building_identifiers, identifiers
from meterhub.exchange.gis.model import (
    AccountData,
    DeviceData,
    HouseData,
    MissingIdentifier,
    NsiRef,
    PayerPerson,
    PaymentData,
    PremiseData,
    ReadingData,
)
from meterhub.registry.payers import OwnerOnDay, owners_on_day

__all__ = [
    "building_ids",
    "load_accounts",
    "load_devices",
    "load_house",
    "load_nsi",
    "load_payments",
    "load_readings",
]


def building_ids(conn: psycopg.Connection, only: Sequence[str] | None = None) -> list[str]:
    rows = conn.execute(
        "SELECT building_id FROM buildings WHERE %(b)s::text[] IS NULL OR building_id = ANY(%(b)s) "
        "ORDER BY building_id",
        {"b": list(only) if only else None},
    ).fetchall()
    if only and len(rows) != len(set(only)):
        missing = sorted(set(only) - {r[0] for r in rows})
        raise MissingIdentifier(f"building(s) {', '.join(missing)} not in the buildings table")
    return [r[0] for r in rows]


def load_nsi(conn: psycopg.Connection, kind: str) -> dict[str, NsiRef]:
    """The filled НСИ entries of ``kind`` (``resource``/``service``): those with a code and a GUID."""
    rows = conn.execute(
        "SELECT local_value, registry, code, guid, name FROM gis_nsi_refs "
        "WHERE kind = %s AND code IS NOT NULL AND guid IS NOT NULL",
        (kind,),
    ).fetchall()
    return {value: NsiRef(registry, code, str(guid), name) for value, registry, code, guid, name in rows}


def load_house(conn: psycopg.Connection, building_id: str) -> HouseData:
    row = conn.execute(
        "SELECT address, total_area FROM buildings WHERE building_id = %s", (building_id,)
    ).fetchone()
    if row is None:
        raise MissingIdentifier(f"building {building_id!r} is not in the buildings table")
    premises_guids = building_identifiers(conn, "premises_guid", building_id)
    premises = tuple(
        PremiseData(no, residential, area, entrance, premises_guids.get(f"{building_id}/{no}"))
        for no, residential, area, entrance in conn.execute(
            "SELECT premise_no, residential, area, entrance FROM premises WHERE building_id = %s "
            "ORDER BY premise_no ~ '^[0-9]+$' DESC, "
            "CASE WHEN premise_no ~ '^[0-9]+$' THEN premise_no::bigint END, premise_no",
            (building_id,),
        ).fetchall()
    )
    fias = identifiers(conn, "house_fias_guid", [building_id]).get(building_id)
    return HouseData(building_id, row[0], row[1], fias, premises)


def load_accounts(conn: psycopg.Connection, building_id: str, on_day: date) -> list[AccountData]:
    """Accounts of the building open on ``on_day`` or closed after the day before (closing to report)."""
    fias = identifiers(conn, "house_fias_guid", [building_id]).get(building_id)
    premises_guids = building_identifiers(conn, "premises_guid", building_id)
    account_guids = building_identifiers(conn, "account_guid", building_id)
    rows = conn.execute(
        """
        SELECT a.account_no, a.premise_no, a.share, a.owner_name, a.opened_on, a.closed_on, p.area,
               p.residential,
               coalesce((SELECT r.registered + r.temporary FROM resident_counts r
                          WHERE r.account_no = a.account_no AND r.valid_from <= %(d)s
                            AND (r.valid_to IS NULL OR r.valid_to > %(d)s)), 0)
        FROM accounts a JOIN premises p USING (building_id, premise_no)
        WHERE a.building_id = %(b)s AND a.opened_on <= %(d)s
        ORDER BY a.account_no
        """,
        {"b": building_id, "d": on_day},
    ).fetchall()
    owners = _registry_owners(conn, building_id, on_day)
    per_premise: dict[str, list[PremiseAccount]] = defaultdict(list)
    for row in rows:
        per_premise[row[1]].append(PremiseAccount(row[0], Fraction(row[2]), row[3]))
    payers: dict[str, OwnerOnDay | None] = {}
    for premise, premise_accounts in per_premise.items():
        payers.update(account_payers(owners.get(premise, []), premise_accounts))
    result = []
    for no, premise, share, owner, opened, closed, area, residential, persons in rows:
        total = (area * share).quantize(Decimal("0.01"))
        result.append(
            AccountData(
                no, building_id, premise, share, owner, persons, total, total if residential else None,
                opened, closed, premises_guids.get(f"{building_id}/{premise}"), fias, account_guids.get(no),
                _payer_person(payers[no]),
            )
        )  # fmt: skip
    return result


_SEX = {"male": "M", "female": "F"}


def _registry_owners(conn: psycopg.Connection, building_id: str, on_day: date) -> dict[str, list[OwnerOnDay]]:
    """The owners of each premise who can be the payer, from the passport office's register
    (:func:`meterhub.registry.payers.owners_on_day`) when it keeps the building: the persons with a name
    in force on ``on_day``, largest share first (ties: earlier acquisition). An organisation is no
    ``PayerPerson``: its accounts keep their stored owner name."""
    return {
        premise: sorted((o for o in found if o.person_id is not None and o.last_name), key=lambda o: -o.share)
        for premise, found in owners_on_day(conn, building_id, on_day).items()
    }


def _payer_person(chosen: OwnerOnDay | None) -> PayerPerson | None:
    """The owner paying an account (:func:`.account_payers.account_payers`) as ``PayerInfo/Ind``; None:
    the register does not say, the account's stored owner name is sent."""
    if chosen is None:
        return None
    snils = "".join(ch for ch in chosen.snils or "" if ch.isdigit()) or None
    return PayerPerson(
        chosen.last_name, chosen.first_name, chosen.patronymic or None, _SEX.get(chosen.sex or ""),
        chosen.birth_date, snils,
    )  # fmt: skip


_LINKS = """
SELECT l.meter_id, m.serial, coalesce(m.model, ''), l.premise_no, coalesce(p.residential, true), l.service,
       coalesce(m.installed_on, l.valid_from), m.verification_due,
       EXISTS (SELECT 1 FROM meter_registers r JOIN readings x USING (series_id)
                WHERE r.meter_id = l.meter_id AND x.source = 0)
FROM meter_links l JOIN meters m USING (meter_id)
LEFT JOIN premises p ON p.building_id = l.building_id AND p.premise_no = l.premise_no
WHERE l.building_id = %(b)s AND l.valid_from <= %(d)s AND (l.valid_to IS NULL OR l.valid_to > %(d)s)
ORDER BY l.premise_no NULLS FIRST, l.service, l.meter_id
"""

_REGISTERS = """
SELECT r.meter_id, r.register,
       (SELECT x.value::numeric FROM reading_values x WHERE x.series_id = r.series_id ORDER BY x.ts LIMIT 1)
FROM meter_registers r WHERE r.meter_id = ANY(%s) AND r.cumulative
ORDER BY r.meter_id, r.register
"""


def _registers(conn: psycopg.Connection, meters: list[str]) -> dict[str, list[tuple[str, Decimal | None]]]:
    found: dict[str, list[tuple[str, Decimal | None]]] = defaultdict(list)
    for meter, register, first in conn.execute(_REGISTERS, (meters,)).fetchall():
        found[meter].append((register, first))
    return found


def load_devices(conn: psycopg.Connection, building_id: str, on_day: date) -> list[DeviceData]:
    links = conn.execute(_LINKS, {"b": building_id, "d": on_day}).fetchall()
    registers = _registers(conn, [r[0] for r in links])
    fias = identifiers(conn, "house_fias_guid", [building_id]).get(building_id)
    premises_guids = building_identifiers(conn, "premises_guid", building_id)
    account_guids = building_identifiers(conn, "account_guid", building_id)
    versions = building_identifiers(conn, "device_version_guid", building_id)
    accounts_of: dict[str, list[str]] = defaultdict(list)
    for no, premise in conn.execute(
        "SELECT account_no, premise_no FROM accounts WHERE building_id = %s AND opened_on <= %s "
        "AND (closed_on IS NULL OR closed_on > %s) ORDER BY account_no",
        (building_id, on_day, on_day),
    ).fetchall():
        if no in account_guids:
            accounts_of[premise].append(account_guids[no])
    devices = []
    for meter, serial, model, premise, residential, service, installed, due, remote in links:
        regs = registers.get(meter, [])
        devices.append(
            DeviceData(
                meter, serial, model, building_id, premise, residential, service,
                tuple(r for r, _ in regs), installed, due, remote,
                tuple(v if v is not None else Decimal(0) for _, v in regs),
                premises_guids.get(f"{building_id}/{premise}") if premise else None, fias,
                tuple(accounts_of.get(premise, ())) if premise else (), versions.get(meter),
            )
        )  # fmt: skip
    return devices


_LATEST = """
SELECT r.meter_id, r.register, x.value::numeric, x.ts
FROM meter_registers r
JOIN LATERAL (SELECT value, ts FROM reading_values y WHERE y.series_id = r.series_id AND y.ts <= %(end)s
               ORDER BY y.ts DESC LIMIT 1) x ON true
WHERE r.meter_id = ANY(%(m)s) AND r.cumulative
ORDER BY r.meter_id, r.register
"""


def load_readings(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod
) -> tuple[list[ReadingData], list[str]]:
    """The current value of every meter linked in the period: the last reading of each register at or before
    the period's end (local midnight). Meters with no reading inside the period are returned as reasons."""
    zone = conn.execute("SELECT time_zone FROM buildings WHERE building_id = %s", (building_id,)).fetchone()
    if zone is None:
        raise MissingIdentifier(f"building {building_id!r} is not in the buildings table")
    start, end = period.bounds_utc(zone[0])
    links = conn.execute(
        "SELECT DISTINCT l.meter_id, l.service, l.premise_no IS NULL FROM meter_links l "
        "WHERE l.building_id = %s AND l.valid_from < %s AND (l.valid_to IS NULL OR l.valid_to > %s) "
        "ORDER BY 1",
        (building_id, period.end_day, period.first_day),
    ).fetchall()
    values: dict[str, list[tuple[str, Decimal, object]]] = defaultdict(list)
    for meter, register, value, ts in conn.execute(_LATEST, {"end": end, "m": [r[0] for r in links]}):
        values[meter].append((register, value, ts))
    roots = building_identifiers(conn, "device_root_guid", building_id)
    versions = building_identifiers(conn, "device_version_guid", building_id)
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone[0])
    readings, missing = [], []
    for meter, service, house in links:
        regs = values.get(meter, [])
        latest = max((ts for _, _, ts in regs), default=None)
        if latest is None or latest < start:  # type: ignore[operator]
            missing.append(f"meter {meter}: no reading in {period}")
            continue
        taken_on = latest.astimezone(tz).date()  # type: ignore[attr-defined]
        readings.append(
            ReadingData(meter, service, house, tuple(v for _, v, _ in regs), taken_on, roots.get(meter),
                        versions.get(meter))
        )  # fmt: skip
    return readings, missing


def load_payments(
    conn: psycopg.Connection, period: BillingPeriod, buildings: Sequence[str] | None = None
) -> list[PaymentData]:
    """Payments received in ``period`` (paid_on in the month), with the identifier of the payment document
    they pay: the document of the period they name, else of the month before the payment."""
    rows = conn.execute(
        "SELECT p.source, p.payment_id, p.account_no, p.amount_kopecks, p.paid_on, p.period_named "
        "FROM payments p JOIN accounts a USING (account_no) "
        "WHERE p.paid_on >= %(first)s AND p.paid_on < %(end)s "
        "AND (%(b)s::text[] IS NULL OR a.building_id = ANY(%(b)s)) ORDER BY p.paid_on, p.payment_pk",
        {"first": period.first_day, "end": period.end_day, "b": list(buildings) if buildings else None},
    ).fetchall()

    def billed(paid_on: date, named: str | None) -> str:
        return named or str(BillingPeriod(paid_on.year, paid_on.month).previous())

    documents = identifiers(conn, "payment_document_id", {f"{r[2]}/{billed(r[4], r[5])}" for r in rows})
    izhku = identifiers(conn, "account_izhku", {r[2] for r in rows})
    payments = []
    for source, payment_id, account, kopecks, paid_on, named in rows:
        payments.append(
            PaymentData(source, payment_id, account, Decimal(kopecks).scaleb(-2), paid_on, named,
                        documents.get(f"{account}/{billed(paid_on, named)}"), izhku.get(account))
        )  # fmt: skip
    return payments
