"""Posting payments (проведение платежей): registry files → payments, suspense list, allocations.

* :func:`import_registry` reads a registry (``payment_registry.parse_payment_registry``) and, in one
  transaction, records the file (once: a file whose sha256 was imported before is refused as already
  imported), posts every good row whose account exists, skips rows whose ``payment_id`` this source has
  already posted (re-delivered in another file), and sends the rest to the suspense list (неразнесённые
  платежи) with the reason and the raw row.
* :func:`post_payment` posts one payment and allocates it over the account's debts in the database with
  :func:`~meterhub.billing.rules.payment_allocation.allocate_payment`: the named period first, then oldest
  first,
  penalties only when designated or after all principal, the rest an advance (аванс); split across
  services pro rata (largest remainder, ties in receipt order). A payment designated for penalties pays
  the penalties accrued up to its payment date (Decision 9,
  :func:`~meterhub.billing.money.penalty_debts.penalties_accrued_to`), not only those billed at the last
  close.
* :func:`apply_advances` (called by the close, :mod:`meterhub.billing.money.penalty_run`) pays new debts
out of
  unapplied advances.
* :func:`resolve_suspense` posts a suspense row to an account, or writes it off with a reason.

The balance period a payment counts in (``booked_period``) is the month of its payment date, or — when the
building has already closed that month — the first later month not closed, so a closed period's receipt
never changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg

from meterhub.billing.money.ledger import ADVANCE_SERVICE, advance_by_payment, outstanding_by_debt
from meterhub.billing.money.opening_balances import opening_due_dates
from meterhub.billing.money.payment_registry import RegistryError, parse_payment_registry
from meterhub.billing.money.penalty_debts import penalties_accrued_to
from meterhub.billing.rules.payment_allocation import (
    Allocation,
    AllocationRules,
    DebtKind,
    IncomingPayment,
    PeriodDebt,
    allocate_payment,
    service_receipt_key,
)
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod

__all__ = [
    "AlreadyImportedError",
    "ImportResult",
    "RegistryFileError",
    "SuspenseRow",
    "apply_advances",
    "import_registry",
    "open_suspense",
    "post_payment",
    "resolve_suspense",
    "undo_advance_applications",
]

_PENALTY_WORDS = re.compile(r"пени|неустойк", re.IGNORECASE)


class RegistryFileError(ValueError):
    """The file as a whole cannot be read (empty, missing columns, broken CSV); nothing was imported."""

    def __init__(self, errors: Sequence[RegistryError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(str(e) for e in errors))


class AlreadyImportedError(ValueError):
    """A file with the same sha256 was imported before (payment registries are imported once)."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    file_id: int
    file: str
    source: str
    posted: int
    suspense: int
    duplicates: int
    posted_kopecks: int


@dataclass(frozen=True, slots=True)
class SuspenseRow:
    suspense_id: int
    source: str
    file_name: str | None
    line: int
    payment_id: str | None
    account_raw: str | None
    amount_raw: str | None
    reason: str
    raw_row: str


def _kopecks(amount: Decimal) -> int:
    return int(amount * 100)


def booked_period(
    conn: psycopg.Connection, account_no: str, paid_on: date, cache: dict[str, set[str]] | None = None
) -> BillingPeriod:
    """The balance period of a payment made on ``paid_on``: its month, or the first later one not closed.

    ``cache`` (account → its building's closed periods) saves the query when posting many payments in one
    transaction."""
    period = BillingPeriod(paid_on.year, paid_on.month)
    closed = cache.get(account_no) if cache is not None else None
    if closed is None:
        closed = {
            row[0]
            for row in conn.execute(
                "SELECT bp.period FROM billing_periods bp JOIN accounts a USING (building_id)"
                " WHERE a.account_no = %s AND bp.status = 'closed'",
                (account_no,),
            )
        }
        if cache is not None:
            cache[account_no] = closed
    while str(period) in closed:
        period = period.next()
    return period


def _debts(
    owed: dict[tuple[str, str], dict[str, int]],
    tables: PenaltyTables,
    legacy_due: dict[str, date] | None = None,
) -> list[PeriodDebt]:
    """The allocation's debts; ``legacy_due``: period → due date of a legacy system's debts
    (docs/migration.md), which may predate the penalty tables."""
    debts = []
    for (period_text, kind), services in sorted(owed.items()):
        positive = tuple(
            (service, Decimal(kopecks).scaleb(-2))
            for service, kopecks in sorted(services.items(), key=lambda item: service_receipt_key(item[0]))
            if kopecks > 0
        )
        if positive:
            period = BillingPeriod.parse(period_text)
            due = legacy_due.get(period_text) if legacy_due else None
            debts.append(PeriodDebt(period, due or tables.due_date(period), positive, DebtKind(kind)))
    return debts


_PENALTY_PAID = """
SELECT debt_period, service, sum(amount_kopecks)::bigint FROM payment_allocations
 WHERE account_no = %s AND kind = 'penalty' GROUP BY debt_period, service
"""


def _penalties_to_date(
    conn: psycopg.Connection,
    account_no: str,
    paid_on: date,
    owed: dict[tuple[str, str], dict[str, int]],
    tables: PenaltyTables,
) -> None:
    """Replace the penalty debts in ``owed`` by the penalties accrued up to ``paid_on`` less what was paid
    on them (Decision 9: a payment designated for penalties pays those accrued to its date, not only those
    billed at the last close)."""
    accrued = penalties_accrued_to(conn, account_no, paid_on, tables)
    paid: dict[str, dict[str, int]] = {}
    for debt_period, service, kopecks in conn.execute(_PENALTY_PAID, (account_no,)):
        paid.setdefault(debt_period, {})[service] = kopecks
    for key in [key for key in owed if key[1] == DebtKind.PENALTY.value]:
        del owed[key]
    for debt_period, services in accrued.items():
        done = paid.get(debt_period, {})
        owed[(debt_period, DebtKind.PENALTY.value)] = {s: k - done.get(s, 0) for s, k in services.items()}


def _write_allocation(
    conn: psycopg.Connection,
    payment_pk: int,
    account_no: str,
    booked: str,
    paid_on: date,
    allocation: Allocation,
    *,
    rule_prefix: str = "",
    applied_in: str | None = None,
    advance_taken: int = 0,
) -> None:
    rows = [
        (
            payment_pk,
            account_no,
            booked,
            paid_on,
            str(line.period),
            line.service,
            line.kind.value,
            _kopecks(line.amount),
            rule_prefix + line.rule.value,
            applied_in,
        )
        for line in allocation.lines
    ]
    advance = _kopecks(allocation.advance) - advance_taken
    if advance:
        rule = "advance" if not advance_taken else "advance_applied"
        rows.append(
            (
                payment_pk,
                account_no,
                booked,
                paid_on,
                None,
                ADVANCE_SERVICE,
                "advance",
                advance,
                rule,
                applied_in,
            )
        )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO payment_allocations (payment_pk, account_no, booked_period, paid_on, debt_period,"
            " service, kind, amount_kopecks, rule, applied_in)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


def post_payment(
    conn: psycopg.Connection,
    *,
    account_no: str,
    amount_kopecks: int,
    paid_on: date,
    payment_id: str,
    source: str,
    period: BillingPeriod | None = None,
    purpose: str = "",
    penalties_designated: bool | None = None,
    file_id: int | None = None,
    line: int | None = None,
    tables: PenaltyTables | None = None,
    rules: AllocationRules | None = None,
    closed_cache: dict[str, set[str]] | None = None,
    debt_limits: Mapping[tuple[str, str], Mapping[str, int]] | None = None,
    rule_prefix: str = "",
) -> int | None:
    """Post one payment and allocate it; returns its ``payment_pk``, or ``None`` if (source, payment_id)
    was posted before. ``penalties_designated`` defaults to whether the purpose mentions "пени" or
    "неустойка". Locks the account row so concurrent postings of one account allocate in turn.

    ``debt_limits`` (money under a writ, docs/claims.md): the payment pays only these debts —
    ``(debt period, kind) → {service: at most kopecks}``, penalties as accrued to ``paid_on`` — principal
    oldest first, then their penalties; the rest is an advance. ``rule_prefix`` marks its allocation
    lines (``writ:``)."""
    tables = tables or PenaltyTables.default()
    if penalties_designated is None:
        penalties_designated = bool(_PENALTY_WORDS.search(purpose))
    if (
        conn.execute("SELECT 1 FROM accounts WHERE account_no = %s FOR UPDATE", (account_no,)).fetchone()
        is None
    ):
        raise LookupError(
            f"account {account_no!r} does not exist; import it or correct the payment's account"
        )
    row = conn.execute(
        "INSERT INTO payments (source, payment_id, file_id, line, account_no, amount_kopecks, paid_on,"
        " period_named, penalties_designated, purpose) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (source, payment_id) DO NOTHING RETURNING payment_pk",
        (
            source,
            payment_id,
            file_id,
            line,
            account_no,
            amount_kopecks,
            paid_on,
            str(period) if period else None,
            penalties_designated,
            purpose,
        ),
    ).fetchone()
    if row is None:
        return None
    payment_pk = int(row[0])
    legacy_due = {p: d for (_, p), d in opening_due_dates(conn, [account_no]).items()}
    owed = outstanding_by_debt(conn, [account_no])[account_no]
    if penalties_designated or debt_limits is not None:
        _penalties_to_date(conn, account_no, paid_on, owed, tables)
    if debt_limits is not None:
        owed = {
            key: {s: min(k, debt_limits[key][s]) for s, k in services.items() if s in debt_limits[key]}
            for key, services in owed.items()
            if key in debt_limits
        }
    debts = _debts(owed, tables, legacy_due)
    incoming = IncomingPayment(Decimal(amount_kopecks).scaleb(-2), period, penalties_designated)
    allocation = allocate_payment(incoming, debts, rules)
    booked = str(booked_period(conn, account_no, paid_on, closed_cache))
    _write_allocation(conn, payment_pk, account_no, booked, paid_on, allocation, rule_prefix=rule_prefix)
    return payment_pk


def _raw_lines(data: bytes, encoding: str) -> list[str]:
    text = data.decode(encoding, errors="replace")
    return text.splitlines()


def import_registry(
    conn: psycopg.Connection,
    data: bytes,
    *,
    file_name: str,
    source: str,
    encoding: str | None = None,
    tables: PenaltyTables | None = None,
) -> ImportResult:
    """Import one registry file (see the module docstring); all or nothing, in one transaction.

    Raises :class:`AlreadyImportedError` for a file imported before and :class:`RegistryFileError` when the
    file cannot be read at all (nothing is recorded, fix the file and import it again).
    """
    if not source.strip():
        raise ValueError("the payment source (bank or agent name) must not be empty")
    tables = tables or PenaltyTables.default()
    registry = parse_payment_registry(data, file_name, encoding=encoding)
    if any(e.line <= 1 or e.message.startswith("unreadable CSV") for e in registry.errors):
        raise RegistryFileError([e for e in registry.errors if e.line <= 1 or e.column is None])
    lines = _raw_lines(data, registry.encoding)
    with conn.transaction():
        earlier = conn.execute(
            "SELECT file_name, source, imported_at FROM payment_files WHERE sha256 = %s", (registry.sha256,)
        ).fetchone()
        if earlier is not None:
            raise AlreadyImportedError(
                f"{file_name}: this file (sha256 {registry.sha256[:12]}…) was already imported as "
                f"{earlier[0]!r} from {earlier[1]!r} on {earlier[2]:%Y-%m-%d %H:%M}; nothing was posted again"
            )
        file_id = conn.execute(
            "INSERT INTO payment_files (sha256, source, file_name, encoding, delimiter)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING file_id",
            (registry.sha256, source, file_name, registry.encoding, registry.delimiter),
        ).fetchone()[0]  # type: ignore[index]

        suspense: list[tuple[int, str | None, str | None, str | None, str]] = []
        by_line: dict[int, list[RegistryError]] = {}
        for error in registry.errors:
            by_line.setdefault(error.line, []).append(error)
        for line, errors in sorted(by_line.items()):
            first = errors[0]
            reason = "; ".join(f"{e.column or 'row'}: {e.message}" for e in errors)
            suspense.append(
                (line, first.cell("payment_id"), first.cell("account"), first.cell("amount"), reason)
            )

        # Lock every account of the file up front, in account order — the order the close locks a
        # building's accounts in — so an import and a close never wait for each other in a cycle.
        known = {
            row[0]
            for row in conn.execute(
                "SELECT account_no FROM accounts WHERE account_no = ANY(%s) ORDER BY account_no FOR UPDATE",
                (sorted({r.account for r in registry.rows}),),
            )
        }
        posted = duplicates = posted_kopecks = 0
        closed_cache: dict[str, set[str]] = {}
        for r in registry.rows:
            amount = _kopecks(r.amount)
            if r.account not in known:
                suspense.append(
                    (
                        r.line,
                        r.payment_id,
                        r.account,
                        str(r.amount),
                        f"account: unknown account {r.account!r}; post it to the right account "
                        f"(meterhub payments resolve) or return the payment",
                    )
                )
                continue
            pk = post_payment(
                conn,
                account_no=r.account,
                amount_kopecks=amount,
                paid_on=r.paid_on,
                payment_id=r.payment_id,
                source=source,
                period=r.period,
                purpose=r.purpose,
                file_id=file_id,
                line=r.line,
                tables=tables,
                closed_cache=closed_cache,
            )
            if pk is None:
                duplicates += 1
            else:
                posted += 1
                posted_kopecks += amount
                # a corrected re-delivery of a row an earlier file sent to suspense resolves it
                conn.execute(
                    "UPDATE payment_suspense SET resolved_at = now(), resolution = %s, payment_pk = %s"
                    " WHERE source = %s AND payment_id = %s AND resolved_at IS NULL",
                    (f"posted from {file_name}, line {r.line}", pk, source, r.payment_id),
                )
        suspense.sort(key=lambda row: row[0])
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO payment_suspense (file_id, source, line, payment_id, account_raw, amount_raw,"
                " reason, raw_row) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        file_id,
                        source,
                        line,
                        pid,
                        acc,
                        amt,
                        reason,
                        lines[line - 1] if 0 < line <= len(lines) else "",
                    )
                    for line, pid, acc, amt, reason in suspense
                ],
            )
        conn.execute(
            "UPDATE payment_files SET rows_posted = %s, rows_suspense = %s, rows_duplicate = %s"
            " WHERE file_id = %s",
            (posted, len(suspense), duplicates, file_id),
        )
    return ImportResult(int(file_id), file_name, source, posted, len(suspense), duplicates, posted_kopecks)


def open_suspense(conn: psycopg.Connection) -> list[SuspenseRow]:
    """Unresolved suspense rows, oldest first."""
    rows = conn.execute(
        "SELECT s.suspense_id, s.source, f.file_name, s.line, s.payment_id, s.account_raw, s.amount_raw,"
        " s.reason, s.raw_row FROM payment_suspense s LEFT JOIN payment_files f USING (file_id)"
        " WHERE s.resolved_at IS NULL ORDER BY s.suspense_id"
    )
    return [SuspenseRow(*row) for row in rows]


def resolve_suspense(
    conn: psycopg.Connection,
    suspense_id: int,
    *,
    account_no: str | None = None,
    amount_kopecks: int | None = None,
    paid_on: date | None = None,
    payment_id: str | None = None,
    period: BillingPeriod | None = None,
    write_off: str | None = None,
    tables: PenaltyTables | None = None,
) -> int | None:
    """Resolve one suspense row: post it to ``account_no`` (amount, date and payment id from the row
    unless given) and return the ``payment_pk``, or close it with the ``write_off`` reason (returns None).
    """
    if (account_no is None) == (write_off is None):
        raise ValueError("give either account_no (post the payment) or write_off (a reason), not both")
    with conn.transaction():
        row = conn.execute(
            "SELECT source, line, payment_id, amount_raw, raw_row, resolved_at FROM payment_suspense"
            " WHERE suspense_id = %s FOR UPDATE",
            (suspense_id,),
        ).fetchone()
        if row is None:
            raise LookupError(f"no suspense row {suspense_id}; list them with `meterhub payments suspense`")
        source, line, row_payment_id, amount_raw, raw_row, resolved_at = row
        if resolved_at is not None:
            raise ValueError(f"suspense row {suspense_id} was already resolved on {resolved_at:%Y-%m-%d}")
        if write_off is not None:
            conn.execute(
                "UPDATE payment_suspense SET resolved_at = now(), resolution = %s WHERE suspense_id = %s",
                (f"written off: {write_off}", suspense_id),
            )
            return None
        if amount_kopecks is None:
            try:
                amount_kopecks = _kopecks(Decimal(str(amount_raw).replace(" ", "").replace(",", ".")))
            except (ArithmeticError, ValueError):
                raise ValueError(
                    f"suspense row {suspense_id}: amount {amount_raw!r} is not readable; pass the amount"
                ) from None
        if amount_kopecks <= 0:
            raise ValueError(f"suspense row {suspense_id}: the amount must be positive")
        if paid_on is None:
            raise ValueError(f"suspense row {suspense_id}: pass the payment date (raw row: {raw_row})")
        pid = payment_id or row_payment_id or f"suspense-{suspense_id}"
        pk = post_payment(
            conn,
            account_no=account_no,  # type: ignore[arg-type]
            amount_kopecks=amount_kopecks,
            paid_on=paid_on,
            payment_id=pid,
            source=source,
            period=period,
            line=line,
            tables=tables,
        )
        if pk is None:
            raise ValueError(f"payment {pid!r} of {source!r} is already posted; write the suspense row off")
        conn.execute(
            "UPDATE payment_suspense SET resolved_at = now(), resolution = %s, payment_pk = %s"
            " WHERE suspense_id = %s",
            (f"posted to {account_no}", pk, suspense_id),
        )
        return pk


def undo_advance_applications(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> list[str]:
    """Delete the advance applications booked by an earlier (draft) close of ``period``; lock and return
    the building's accounts."""
    accounts = [
        row[0]
        for row in conn.execute(
            "SELECT account_no FROM accounts WHERE building_id = %s ORDER BY account_no FOR UPDATE",
            (building_id,),
        )
    ]
    conn.execute(
        "DELETE FROM payment_allocations WHERE applied_in = %s AND account_no = ANY(%s)",
        (str(period), accounts),
    )
    return accounts


def apply_advances(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    tables: PenaltyTables | None = None,
    rules: AllocationRules | None = None,
    *,
    locked_accounts: list[str] | None = None,
) -> int:
    """Pay the building's outstanding debts out of unapplied advances, booked in ``period``.

    Called at the end of the close of ``period`` (after its charges, recalculations and penalties are
    written): earlier applications booked in this period are deleted first, so a draft re-run redoes them.
    Only payments made before the end of ``period`` are used. Each advance payment, oldest first, is
    allocated like a payment without a named period; the rows carry the payment's date. Returns the
    kopecks applied. ``locked_accounts``: what :func:`undo_advance_applications` returned earlier in
    the same transaction (the accounts are locked and the period's applications deleted: not again).
    """
    tables = tables or PenaltyTables.default()
    text = str(period)
    if locked_accounts is None:
        accounts = undo_advance_applications(conn, building_id, period)
    else:
        accounts = locked_accounts
    advances = advance_by_payment(conn, accounts, paid_before=period.end_day)
    with_advance = [no for no in accounts if advances[no]]
    if not with_advance:
        return 0
    owed = outstanding_by_debt(conn, with_advance)
    legacy_due: dict[str, dict[str, date]] = {}
    for (account, period_text), due in opening_due_dates(conn, with_advance).items():
        legacy_due.setdefault(account, {})[period_text] = due
    paid_on = dict(
        conn.execute(
            "SELECT payment_pk, paid_on FROM payments WHERE payment_pk = ANY(%s)",
            ([pk for no in with_advance for pk, _ in advances[no]],),
        ).fetchall()
    )
    applied = 0
    for account_no in with_advance:
        for payment_pk, kopecks in advances[account_no]:
            debts = _debts(owed[account_no], tables, legacy_due.get(account_no))
            if not debts:
                break
            allocation = allocate_payment(IncomingPayment(Decimal(kopecks).scaleb(-2)), debts, rules)
            taken = _kopecks(allocation.allocated)
            if not taken:
                break
            _write_allocation(
                conn,
                payment_pk,
                account_no,
                text,
                paid_on[payment_pk],
                allocation,
                rule_prefix="advance_applied:",
                applied_in=text,
                advance_taken=kopecks,
            )
            for line in allocation.lines:
                key = (str(line.period), line.kind.value)
                owed[account_no][key][line.service] -= _kopecks(line.amount)
            applied += taken
    return applied
