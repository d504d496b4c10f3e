-- A supplier's own charges (начисления поставщика) when it bills directly — e.g. the capital-repair
-- operator's contribution or a РСО's service the close does not compute: imported per account, service and
-- period, written into the period's charge lines by the close's money step (so the ledger, the payments and
-- the receipt — where the supplier is a separate payee — see them). docs/suppliers.md.
CREATE TABLE supplier_charges (
    supplier_id  text NOT NULL REFERENCES suppliers (supplier_id),
    account_no   text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    service      text NOT NULL REFERENCES services (service),
    period       text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    volume       numeric NOT NULL DEFAULT 0,
    unit         text NOT NULL DEFAULT '',
    tariff       numeric NOT NULL DEFAULT 0,
    amount       numeric(14, 2) NOT NULL,
    description  text NOT NULL DEFAULT '',
    PRIMARY KEY (supplier_id, account_no, service, period)
);
