"""How the stages fit together: the list of packages that ship migrations, in dependency order, and the
hooks through which a downstream stage feeds an upstream one (plugged in by the commands that need them,
so a command never imports a stage it does not use)."""

from __future__ import annotations

MIGRATION_SOURCES: tuple[str, ...] = (
    "meterhub.timeseries",
    "meterhub.billing",
    "meterhub.api",
    "meterhub.registry",  # refers to billing premises and api users (0400–0409)
    "meterhub.exchange",  # reads billing accounts and money (0300–0309)
    "meterhub.servicedesk",  # extends api requests, writes billing service events (0500–0509)
    "meterhub.claims",  # reads billing accounts and money, writes court decisions for exchange (0600–0609)
)


def _receipt_state_ids(conn, account_nos, period):
    from meterhub.exchange.gis.identifiers import receipt_state_ids

    return receipt_state_ids(conn, account_nos, period)


def plug_receipt_identifiers() -> None:
    """Receipts print the ЕЛС, ИЖКУ and payment document id ГИС ЖКХ assigned (kept by the exchange stage)."""
    from meterhub.billing.receipts import set_state_ids_source

    set_state_ids_source(_receipt_state_ids)


def _write_court_decision(conn, record):
    from meterhub.exchange.gis.debt_answers import record_court_decision

    record_court_decision(
        conn,
        account_no=record.account_no,
        case_number=record.case_number,
        court=record.court,
        decided_on=record.decided_on,
        in_force_on=record.in_force_on,
        debt_from=record.debt_from,
        debt_to=record.debt_to,
        amount_kopecks=record.amount_kopecks,
        last_name=record.last_name,
        first_name=record.first_name,
        middle_name=record.middle_name,
        repaid_on=record.repaid_on,
        debtor_no=record.debtor_no,
        liability=record.liability,
    )


def plug_court_decisions() -> None:
    """Court orders and decisions recorded in a claims case go to the exchange's ``court_decisions``."""
    from meterhub.claims.court_acts import set_court_act_sink

    set_court_act_sink(_write_court_decision)
