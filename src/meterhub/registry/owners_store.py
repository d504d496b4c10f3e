"""Owners of a premise (собственники) with shares (доли) and title documents (правоустанавливающие
документы) with an attached scan. An ownership is never deleted: losing it sets ``lost_on``.

The shares of the owners of a premise on any day must not exceed the whole: a new ownership that would
make them exceed 1 is refused, naming the owners in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import psycopg

from meterhub.registry.audit import Actor, audit
from meterhub.registry.org_ids import OrganizationIdError, check_inn, check_ogrn

__all__ = [
    "MAX_SCAN_BYTES",
    "NewOwnership",
    "OwnershipError",
    "add_ownership",
    "end_ownership",
    "owners_of",
    "scan",
    "set_organization_details",
]

MAX_SCAN_BYTES = 10 * 1024 * 1024
SCAN_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/tiff"})


class OwnershipError(ValueError):
    pass


@dataclass(frozen=True)
class NewOwnership:
    building_id: str
    premise_no: str
    acquired_on: date
    person_id: int | None = None
    organization: str = ""
    share: Fraction = Fraction(1)
    title_type: str = ""
    title_number: str = ""
    title_date: date | None = None
    registry_entry: str = ""
    scan: bytes | None = None
    scan_name: str = ""
    scan_mime: str = ""
    joint_group: int | None = None
    """Общая совместная собственность: the same number for the owners of one joint ownership."""
    organization_inn: str = ""
    """An organisation owner's ИНН (10 digits, check digit validated); a court-order application needs it."""
    organization_ogrn: str = ""
    """An organisation owner's ОГРН (13 digits, check digit validated)."""
    organization_address: str = ""
    """An organisation owner's legal address (адрес юридического лица)."""


def _organization_ids(organization: str, inn: str, ogrn: str, address: str) -> tuple[str, str, str]:
    """ИНН, ОГРН and the legal address checked (empty ones stay empty); only an organisation has them."""
    inn, ogrn, address = inn.strip(), ogrn.strip(), address.strip()
    if not organization and (inn or ogrn or address):
        raise OwnershipError(
            "ИНН, ОГРН и адрес юридического лица указываются только для собственника-организации; "
            "у гражданина их не заполняйте"
        )
    try:
        return (check_inn(inn) if inn else "", check_ogrn(ogrn) if ogrn else "", address)
    except OrganizationIdError as error:
        raise OwnershipError(str(error)) from error


def _shares_on(conn: psycopg.Connection, building_id: str, premise_no: str, day: date) -> list[tuple]:
    return conn.execute(
        "SELECT ownership_id, share_numerator, share_denominator FROM registry_owners WHERE building_id = %s "
        "AND premise_no = %s AND acquired_on <= %s AND (lost_on IS NULL OR lost_on > %s)",
        (building_id, premise_no, day, day),
    ).fetchall()


def add_ownership(conn: psycopg.Connection, actor: Actor, o: NewOwnership) -> int:
    if (o.person_id is None) == (not o.organization):
        raise OwnershipError(
            "укажите собственника: либо гражданина из реестра, либо организацию (одно из двух, не оба сразу)"
        )
    inn, ogrn, address = _organization_ids(
        o.organization, o.organization_inn, o.organization_ogrn, o.organization_address
    )
    if not 0 < o.share <= 1:
        raise OwnershipError(
            f"доля {o.share} должна быть больше 0 и не больше 1; укажите дробью, например 1/2"
        )
    if o.scan is not None:
        if len(o.scan) > MAX_SCAN_BYTES:
            raise OwnershipError(
                f"скан документа занимает {len(o.scan) / 2**20:.1f} МБ, допускается не более "
                f"{MAX_SCAN_BYTES // 2**20} МБ; уменьшите файл (например, сканируйте в 200 dpi)"
            )
        if o.scan_mime not in SCAN_TYPES:
            raise OwnershipError(
                f"скан должен быть файлом PDF, JPEG, PNG или TIFF, а не «{o.scan_mime or 'без типа'}»; "
                "сохраните документ в одном из этих форматов"
            )
    with conn.transaction():
        held = sum(
            (Fraction(n, d) for _, n, d in _shares_on(conn, o.building_id, o.premise_no, o.acquired_on)),
            Fraction(0),
        )
        if held + o.share > 1:
            raise OwnershipError(
                f"квартира {o.premise_no}: собственникам на {o.acquired_on:%d.%m.%Y} уже принадлежит {held}; "
                f"с долей {o.share} получится больше целого — сначала прекратите право прежнего собственника "
                "(дата прекращения права)"
            )
        ownership_id = conn.execute(
            """
            INSERT INTO registry_owners (building_id, premise_no, person_id, organization, share_numerator,
                share_denominator, acquired_on, title_type, title_number, title_date, registry_entry, scan,
                scan_name, scan_mime, joint_group, organization_inn, organization_ogrn, organization_address)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING ownership_id
            """,
            (
                o.building_id,
                o.premise_no,
                o.person_id,
                o.organization,
                o.share.numerator,
                o.share.denominator,
                o.acquired_on,
                o.title_type,
                o.title_number,
                o.title_date,
                o.registry_entry,
                o.scan,
                o.scan_name,
                o.scan_mime,
                o.joint_group,
                inn,
                ogrn,
                address,
            ),
        ).fetchone()[0]  # type: ignore[index]
        audit(
            conn,
            actor,
            "change",
            "ownership",
            o.person_id,
            f"{o.building_id}/{o.premise_no} {o.share} from {o.acquired_on}",
        )
    return ownership_id


def end_ownership(conn: psycopg.Connection, actor: Actor, ownership_id: int, lost_on: date) -> None:
    with conn.transaction():
        row = conn.execute(
            "UPDATE registry_owners SET lost_on = %s WHERE ownership_id = %s AND lost_on IS NULL "
            "RETURNING person_id",
            (lost_on, ownership_id),
        ).fetchone()
        if row is None:
            raise OwnershipError(f"права собственности № {ownership_id} нет в реестре или оно уже прекращено")
        audit(conn, actor, "change", "ownership", row[0], f"ownership {ownership_id} ends {lost_on}")


def set_organization_details(
    conn: psycopg.Connection, actor: Actor, ownership_id: int, *, inn: str, ogrn: str, address: str
) -> None:
    """Enter or correct an organisation owner's ИНН, ОГРН and legal address (each validated; an empty one
    clears it). The ownership itself (share, dates, title) is not touched."""
    row = conn.execute(
        "SELECT organization FROM registry_owners WHERE ownership_id = %s", (ownership_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"права собственности № {ownership_id} нет в реестре")
    if not row[0]:
        raise OwnershipError(
            f"собственник № {ownership_id} — гражданин; ИНН, ОГРН и адрес юридического лица вносятся только "
            "для организации"
        )
    inn, ogrn, address = _organization_ids(row[0], inn, ogrn, address)
    with conn.transaction():
        conn.execute(
            "UPDATE registry_owners SET organization_inn = %s, organization_ogrn = %s,"
            " organization_address = %s WHERE ownership_id = %s",
            (inn, ogrn, address, ownership_id),
        )
        audit(conn, actor, "change", "ownership", None, f"ownership {ownership_id} ИНН {inn} ОГРН {ogrn}")


def owners_of(conn: psycopg.Connection, building_id: str, premise_no: str) -> list[dict]:
    """Every ownership of the premise (ended ones included), without the scans' bytes."""
    rows = conn.execute(
        """
        SELECT o.ownership_id, o.person_id,
               coalesce(n.last_name || ' ' || n.first_name || ' ' || n.patronymic, o.organization),
               o.share_numerator, o.share_denominator, o.acquired_on, o.lost_on, o.title_type, o.title_number,
               o.title_date, o.registry_entry, o.scan IS NOT NULL, o.scan_name, o.joint_group,
               o.organization_inn, o.organization_ogrn, o.organization_address
        FROM registry_owners o
        LEFT JOIN LATERAL (SELECT * FROM registry_person_names x WHERE x.person_id = o.person_id
                           ORDER BY valid_from DESC LIMIT 1) n ON true
        WHERE o.building_id = %s AND o.premise_no = %s ORDER BY o.acquired_on, o.ownership_id
        """,
        (building_id, premise_no),
    ).fetchall()
    keys = (
        "ownership_id",
        "person_id",
        "name",
        "share_numerator",
        "share_denominator",
        "acquired_on",
        "lost_on",
        "title_type",
        "title_number",
        "title_date",
        "registry_entry",
        "has_scan",
        "scan_name",
        "joint_group",
        "organization_inn",
        "organization_ogrn",
        "organization_address",
    )
    return [dict(zip(keys, r, strict=True)) | {"name": r[2].strip()} for r in rows]


def scan(conn: psycopg.Connection, actor: Actor, ownership_id: int) -> tuple[bytes, str, str] | None:
    """(bytes, file name, media type) of the title document's scan; the read is audited."""
    row = conn.execute(
        "SELECT scan, scan_name, scan_mime, person_id FROM registry_owners WHERE ownership_id = %s "
        "AND scan IS NOT NULL",
        (ownership_id,),
    ).fetchone()
    if row is None:
        return None
    audit(conn, actor, "read", "title_scan", row[3], f"ownership {ownership_id}")
    return bytes(row[0]), row[1], row[2]
