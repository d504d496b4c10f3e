"""importAccountData (house-management): лицевые счета of the УК with the payer and the premise share.

An account ГИС ЖКХ knows (AccountGUID imported) is updated, a new one is created; a closed account carries
its closing date. The payer (плательщик) is the owner the passport office (registry) records for the
account's share of the premise — name, sex, birth date and СНИЛС — or, where the registry does not keep
the building, the owner named on the account, split into surname, first name and patronymic; the share of
the premise (доля) is sent in percent.
"""

from __future__ import annotations

from decimal import Decimal

from meterhub.exchange.gis.model import (
    AccountData,
    BuiltMessage,
    GuidFactory,
    NsiRef,
    PayerPerson,
    new_message,
)
from meterhub.exchange.gis.xml import child, guid, nsi_ref

__all__ = ["VERSION", "build_accounts", "split_person_name"]

VERSION = "10.0.1.1"
MAX_ACCOUNTS = 100  # importAccountRequest: Account maxOccurs


def split_person_name(full_name: str) -> tuple[str, str, str | None]:
    """``Иванов Иван Иванович`` → (surname, first name, patronymic); initials stay as written (``И.``)."""
    parts = full_name.replace(".", ". ").split()
    if len(parts) < 2:
        raise ValueError(f"{full_name!r} is not a person's full name (surname and first name are needed)")
    surname, first = parts[0], parts[1]
    patronymic = " ".join(parts[2:]) or None
    return surname, first, patronymic


def build_accounts(
    accounts: list[AccountData], new_guid: GuidFactory, close_reason: NsiRef | None = None
) -> BuiltMessage:
    """``importAccountRequest`` of up to :data:`MAX_ACCOUNTS` accounts (the caller splits larger lists).

    Accounts whose premise has no PremisesGUID yet are skipped with the reason (export houses first).
    """
    built = new_message(
        "importAccountData", "hm:importAccountRequest", VERSION, len(accounts), MAX_ACCOUNTS, "accounts"
    )
    body = built.body
    for account in accounts:
        if not account.premises_guid:
            built.skipped.append(
                f"account {account.account_no}: premise {account.building_id}/{account.premise_no} has no "
                f"PremisesGUID yet; export houses and import the response first"
            )
            continue
        if account.closed_on is not None and close_reason is None:
            built.skipped.append(
                f"account {account.account_no}: closed on {account.closed_on} but the НСИ 22 close reason "
                f"is not mapped (gis_nsi_refs service 'account_closed')"
            )
            continue
        payer = account.payer
        if payer is None:
            try:
                surname, first, patronymic = split_person_name(account.owner_name)
            except ValueError as exc:
                built.skipped.append(f"account {account.account_no}: owner {exc}")
                continue
            payer = PayerPerson(surname, first, patronymic, None, None, None)
        node = child(body, "hm:Account")
        child(node, "hm:isUOAccount", True)
        child(node, "hm:CreationDate", f"{account.opened_on.isoformat()}T00:00:00")
        child(node, "hm:LivingPersonsNumber", account.persons)
        child(node, "hm:TotalSquare", account.total_area.quantize(Decimal("0.01")))
        if account.residential_area is not None:
            child(node, "hm:ResidentialSquare", account.residential_area.quantize(Decimal("0.01")))
        if account.closed_on is not None and close_reason is not None:
            closed = child(node, "hm:Closed")
            nsi_ref(closed, "hm:CloseReason", close_reason.code, close_reason.guid, close_reason.name)
            child(closed, "hm:CloseDate", account.closed_on)
        accommodation = child(node, "hm:Accommodation")
        child(accommodation, "hm:PremisesGUID", guid(account.premises_guid))
        child(accommodation, "hm:SharePercent", (account.share * 100).quantize(Decimal("0.01")))
        individual = child(child(node, "hm:PayerInfo"), "hm:Ind")
        child(individual, "individual-registry-base:Surname", payer.surname)
        child(individual, "individual-registry-base:FirstName", payer.first_name)
        if payer.patronymic:
            child(individual, "individual-registry-base:Patronymic", payer.patronymic)
        if payer.sex:
            child(individual, "hm:Sex", payer.sex)
        if payer.birth_date:
            child(individual, "hm:DateOfBirth", payer.birth_date)
        if payer.snils:
            child(individual, "individual-registry-base:SNILS", payer.snils)
        built.add_transport_guid(node, "account", account.account_no, new_guid)
        child(node, "account-base:AccountNumber", account.account_no)
        if account.account_guid:
            child(node, "hm:AccountGUID", guid(account.account_guid))
    return built
