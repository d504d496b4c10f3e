"""The receipt's payer (плательщик) from the register's owners where the building keeps the register.

The small building B1 closed for January 2026 (receipt_data.py), accounts with stored owner names LS-1
«Иванов И. И.», LS-2 «Петров П. П.», LS-3 «Сидорова С. С.». Then B1 keeps the register from 2025-01-01:

* premise 1: Старов Семён Ильич owned it until 31.01.2026 (lost_on = 2026-01-31, not an owner on the
  period's last day), Новиков Николай Николаевич acquired the whole on 31.01.2026 → LS-1 names Новиков;
* premise 2: two owners of ½ each, Петрова Мария Сергеевна since 01.03.2019 and Петров Павел Павлович
  since 01.01.2020 — equal shares, the earlier acquisition first → «Петрова М. С., Петров П. П.», and the
  QR code's LastName is Петрова;
* premise 3: no owner in the register → the stored «Сидорова С. С.».

The expected names are written out here by hand; the PDF text is read back with PDFium and the QR code
decoded with zxing-cpp (receipt_data.py), both independent of the writer.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from meterhub.billing.money.payment_qr import parse_payment_payload
from meterhub.billing.receipts import load_debt_receipt, load_receipt, render_receipt_pdf
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.registry.audit import Actor
from meterhub.registry.owners_store import NewOwnership, add_ownership, end_ownership
from meterhub.registry.payers import OwnerOnDay, payer_name
from meterhub.registry.persons import PersonName
from meterhub.registry.persons_store import create_person
from meterhub.timeseries.database import connect
from tests.billing.receipts.receipt_data import ISSUED, decode_page_qr, load_receipt_world, page_texts

pytestmark = pytest.mark.db

CLERK = Actor("clerk", "passport_office")
JANUARY = BillingPeriod(2026, 1)


@pytest.fixture(scope="module")
def world(db_url: str) -> str:
    with connect(db_url) as conn:
        load_receipt_world(conn)
    return db_url


def _names(conn) -> dict[str, str]:
    return {
        account: load_receipt(conn, account, JANUARY, issued_on=ISSUED).payer.name
        for account in ("LS-1", "LS-2", "LS-3")
    }


def _owner(conn, premise: str, name: PersonName, share: Fraction, acquired: date) -> int:
    person = create_person(conn, CLERK, name, birth_date=date(1970, 1, 1))
    return add_ownership(conn, CLERK, NewOwnership("B1", premise, acquired, person_id=person, share=share))


def test_payer_comes_from_the_register_owners_where_the_building_keeps_it(world: str) -> None:
    with connect(world) as conn:
        # the building does not keep the register yet: the stored owner names
        assert _names(conn) == {"LS-1": "Иванов И. И.", "LS-2": "Петров П. П.", "LS-3": "Сидорова С. С."}
        conn.execute("INSERT INTO registry_buildings (building_id, kept_from) VALUES ('B1', '2025-01-01')")
        former = _owner(conn, "1", PersonName("Старов", "Семён", "Ильич"), Fraction(1), date(2010, 5, 1))
        end_ownership(conn, CLERK, former, date(2026, 1, 31))
        _owner(conn, "1", PersonName("Новиков", "Николай", "Николаевич"), Fraction(1), date(2026, 1, 31))
        _owner(conn, "2", PersonName("Петров", "Павел", "Павлович"), Fraction(1, 2), date(2020, 1, 1))
        _owner(conn, "2", PersonName("Петрова", "Мария", "Сергеевна"), Fraction(1, 2), date(2019, 3, 1))
        conn.commit()

        assert _names(conn) == {
            "LS-1": "Новиков Николай Николаевич",
            "LS-2": "Петрова М. С., Петров П. П.",
            "LS-3": "Сидорова С. С.",
        }
        pdf = render_receipt_pdf(conn, "LS-2", "2026-01", issued_on=ISSUED)
        # a debt receipt names the owners in force on its as_of day
        assert load_debt_receipt(conn, "LS-2", date(2026, 3, 1)).payer.name == "Петрова М. С., Петров П. П."
        assert load_debt_receipt(conn, "LS-1", date(2026, 3, 1)).payer.name == "Новиков Николай Николаевич"
        other = render_receipt_pdf(conn, "LS-3", "2026-01", issued_on=ISSUED)
    (text,) = page_texts(pdf)
    assert "Плательщик: Петрова М. С., Петров П. П." in text
    assert parse_payment_payload(decode_page_qr(pdf)).as_dict()["LastName"] == "Петрова"
    (other_text,) = page_texts(other)
    assert "Плательщик: Сидорова С. С." in other_text


def test_an_owner_the_register_cannot_name_on_the_day_is_left_out(world: str) -> None:
    """Premise 3 (LS-3) gets two owners of ½: an organisation, and a person whose only recorded name is valid
    from 01.03.2026, after January's last day. The receipt names the organisation and says there is another
    owner — «ООО «Ромашка» и др.», not «ООО «Ромашка», » with an empty entry for the person."""
    with connect(world) as conn:
        conn.execute(
            "INSERT INTO registry_buildings (building_id, kept_from) VALUES ('B1', '2025-01-01') "
            "ON CONFLICT DO NOTHING"
        )
        half = Fraction(1, 2)
        org = NewOwnership("B1", "3", date(2014, 1, 1), organization="ООО «Ромашка»", share=half)
        add_ownership(conn, CLERK, org)
        name = PersonName("Замужняя", "Вера", "Петровна", valid_from=date(2026, 3, 1))
        _owner(conn, "3", name, Fraction(1, 2), date(2015, 6, 1))
        conn.commit()
        assert load_receipt(conn, "LS-3", JANUARY, issued_on=ISSUED).payer.name == "ООО «Ромашка» и др."


def _o(last: str, share: Fraction, acquired: date, first: str = "Анна", patronymic: str = "") -> OwnerOnDay:
    return OwnerOnDay(share, acquired, last, first, patronymic)


def test_payer_name_rule() -> None:
    d = date(2020, 1, 1)
    # the largest share first, whatever the acquisition order; initials for several owners
    owners = [
        _o("Белова", Fraction(1, 3), d, "Вера", "Олеговна"),
        _o("Антонов", Fraction(2, 3), date(2021, 1, 1)),
    ]
    assert payer_name(owners, Fraction(1), only_account=True) == "Антонов А., Белова В. О."
    # more than three owners: three named, then «и др.»
    many = [_o(name, Fraction(1, 4), date(2000 + i, 1, 1)) for i, name in enumerate("ГВБА")]
    assert payer_name(many, Fraction(1), only_account=True) == "Г А., В А., Б А. и др."
    # an organisation keeps its name
    org = OwnerOnDay(Fraction(1), d, organization="ООО «Ромашка»")
    assert payer_name([org], Fraction(1), only_account=True) == "ООО «Ромашка»"
    # a premise split into accounts by shares: the owner holding exactly the account's share (0.333333 ≈ ⅓)
    assert payer_name(owners, Fraction("0.333333"), only_account=False) == "Белова Вера Олеговна"
    assert payer_name(owners, Fraction(1, 2), only_account=False) is None
    assert payer_name([], Fraction(1), only_account=True) is None
    # an owner without a name on the day is never printed as an empty entry («ООО «Ромашка», , …»): «и др.»
    nameless = OwnerOnDay(Fraction(1, 3), d, person_id=7)
    with_nameless = [org, nameless, owners[0]]
    assert payer_name(with_nameless, Fraction(1), only_account=True) == "ООО «Ромашка», Белова В. О. и др."
    assert payer_name([nameless], Fraction(1), only_account=True) is None
