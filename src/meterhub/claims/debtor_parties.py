"""Who the defendants of an account's case are: the owners of the premise for each debt period with their
shares, from the passport office's ownership register (``registry_owners``) where it has owners of the
premise, else the account's owner (``accounts.owner_name``) for his share ``1/owners`` of the account
(``accounts.owners``, ПП 354 п. 56(2)). A minor (under 18 on the day the application is prepared) is
claimed through his legal representatives (ГК РФ ст. 21, 28; Пленум ВС РФ № 22 п. 28:
parents answer for a minor owner's share).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import psycopg

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.claims.shares import Share

__all__ = ["Party", "parties_by_period"]


@dataclass(frozen=True, slots=True)
class Party:
    key: str
    """``person:<id>`` for a registered person, ``account:<no>`` for the account's named owner."""
    person_id: int | None
    full_name: str
    birth_date: date | None
    share: Share
    representative: str = ""
    joint_group: int | None = None
    """Общая совместная собственность (``registry_owners.joint_group``): proposed for a solidary award."""
    death_date: date | None = None
    """``registry_persons.death_date``: a dead owner cannot be a debtor (see ``prepare_case``)."""
    organization: bool = False
    """An organisation owner of the register (``registry_owners.organization``): named by its name, ИНН,
    ОГРН and legal address (ГПК РФ ст. 124 ч. 2 п. 3)."""
    inn: str = ""
    ogrn: str = ""
    legal_address: str = ""


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _representatives(conn: psycopg.Connection, person_id: int, on_day: date) -> str:
    rows = conn.execute(
        """
        SELECT trim(n.last_name || ' ' || n.first_name || ' ' || n.patronymic), r.kind
          FROM registry_representatives r
          JOIN LATERAL (SELECT * FROM registry_person_names x WHERE x.person_id = r.representative_id
                        ORDER BY valid_from DESC LIMIT 1) n ON true
         WHERE r.represented_id = %s AND (r.valid_from IS NULL OR r.valid_from <= %s)
           AND (r.valid_to IS NULL OR r.valid_to >= %s)
         ORDER BY 1
        """,
        (person_id, on_day, on_day),
    ).fetchall()
    kinds = {
        "parent": "родитель",
        "adoptive_parent": "усыновитель",
        "guardian": "опекун",
        "trustee": "попечитель",
    }
    return "; ".join(f"{name} ({kinds.get(kind, kind)})" for name, kind in rows)


def parties_by_period(
    conn: psycopg.Connection, account_no: str, periods: list[str], on_day: date
) -> dict[str, list[Party]]:
    """The owners of each of ``periods`` (those holding a share on its last day), in a stable order."""
    building, premise, owner_name, owners = conn.execute(
        "SELECT building_id, premise_no, owner_name, owners FROM accounts WHERE account_no = %s",
        (account_no,),
    ).fetchone()
    rows = conn.execute(
        """
        SELECT o.person_id, coalesce(trim(n.last_name || ' ' || n.first_name || ' ' || n.patronymic),
                                     o.organization),
               p.birth_date, o.share_numerator, o.share_denominator, o.acquired_on, o.lost_on, o.ownership_id,
               o.joint_group, p.death_date, o.organization_inn, o.organization_ogrn, o.organization_address
          FROM registry_owners o
          LEFT JOIN registry_persons p ON p.person_id = o.person_id
          LEFT JOIN LATERAL (SELECT * FROM registry_person_names x WHERE x.person_id = o.person_id
                             ORDER BY valid_from DESC LIMIT 1) n ON true
         WHERE o.building_id = %s AND o.premise_no = %s ORDER BY o.acquired_on, o.ownership_id
        """,
        (building, premise),
    ).fetchall()
    representatives: dict[int, str] = {}
    result: dict[str, list[Party]] = {}
    for period in periods:
        last_day = BillingPeriod.parse(period).end_day - timedelta(days=1)
        parties = []
        for row in rows:
            person_id, name, birth, numerator, denominator, acquired, lost, ownership_id, joint, died = row[
                :10
            ]
            inn, ogrn, legal_address = row[10:]
            if acquired > last_day or (lost is not None and lost <= last_day):
                continue
            representative = ""
            if person_id is not None and birth is not None and _age_on(birth, on_day) < 18:
                if person_id not in representatives:
                    representatives[person_id] = _representatives(conn, person_id, on_day)
                representative = representatives[person_id]
            key = f"person:{person_id}" if person_id is not None else f"owner:{ownership_id}"
            parties.append(
                Party(
                    key,
                    person_id,
                    name,
                    birth,
                    Share(numerator, denominator),
                    representative,
                    joint,
                    died,
                    person_id is None,
                    inn,
                    ogrn,
                    legal_address,
                )
            )
        if not parties:
            if not owner_name:
                raise LookupError(
                    f"account {account_no}: no owner of {building}/{premise} for {period} in the ownership "
                    "register and no owner name on the account; enter the owners first"
                )
            parties = [Party(f"account:{account_no}", None, owner_name, None, Share(1, max(1, owners)))]
        result[period] = parties
    return result
