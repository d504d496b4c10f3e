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
)


def _receipt_state_ids(conn, account_nos, period):
    from meterhub.exchange.gis.identifiers import receipt_state_ids

    return receipt_state_ids(conn, account_nos, period)


def plug_receipt_identifiers() -> None:
    """Receipts print the ЕЛС, ИЖКУ and payment document id ГИС ЖКХ assigned (kept by the exchange stage)."""
    from meterhub.billing.receipts import set_state_ids_source

    set_state_ids_source(_receipt_state_ids)
