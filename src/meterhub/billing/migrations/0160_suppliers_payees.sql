-- Money to its owners (meterhub.billing.suppliers, docs/suppliers.md): who each service's money belongs to,
-- bank/agent commissions withheld from collected payments, and transfers to suppliers (перечисления).
-- Amounts are integer kopecks. Configuration is validity-dated (billing-rules.md decision 11).

-- A supplier (поставщик, получатель платежа) is the УК itself, a РСО with a direct contract, a regional
-- capital-repair operator or an agent; its bank details are printed on the ЕПД and encoded in its QR.
ALTER TABLE suppliers
    ADD COLUMN kind text NOT NULL DEFAULT 'resource_supplier'
        CHECK (kind IN ('management', 'resource_supplier', 'capital_repair_operator', 'agent')),
    ADD COLUMN kpp text CHECK (kpp IS NULL OR kpp ~ '^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$'),
    ADD COLUMN bank_name text CHECK (bank_name IS NULL OR length(bank_name) BETWEEN 1 AND 45),
    ADD COLUMN bic text CHECK (bic IS NULL OR bic ~ '^[0-9]{9}$'),
    ADD COLUMN settlement_account text
        CHECK (settlement_account IS NULL OR settlement_account ~ '^[1-9][0-9]{4}[0-9ABCEHKMPTX][0-9]{14}$'),
    ADD COLUMN correspondent_account text
        CHECK (correspondent_account IS NULL
               OR correspondent_account ~ '^(0|[1-9][0-9]{4}[0-9ABCEHKMPTX][0-9]{14})$');

-- The supplier of a service in a building from valid_from until the next row of the same key.
CREATE TABLE service_suppliers (
    building_id  text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    service      text NOT NULL REFERENCES services (service),
    valid_from   date NOT NULL,
    supplier_id  text NOT NULL REFERENCES suppliers (supplier_id),
    PRIMARY KEY (building_id, service, valid_from)
);

-- Commission of a bank / payment agent (payments.source) per agent contract from a date: percent of the
-- payment, a minimum per payment, and who bears it: 'supplier' (withheld from the money due to the
-- suppliers, pro rata to their parts), 'management' (the УК pays it from its own money), 'payer' (added
-- on top of the payment by the bank; nothing is withheld from the suppliers).
CREATE TABLE agent_contracts (
    source           text NOT NULL,
    valid_from       date NOT NULL,
    contract_no      text NOT NULL DEFAULT '',
    percent          numeric(8, 4) NOT NULL CHECK (percent >= 0 AND percent < 100),
    minimum_kopecks  bigint NOT NULL DEFAULT 0 CHECK (minimum_kopecks >= 0),
    borne_by         text NOT NULL DEFAULT 'supplier' CHECK (borne_by IN ('supplier', 'management', 'payer')),
    PRIMARY KEY (source, valid_from)
);

-- The commission of one posted payment, computed by the contract in force on its payment date.
CREATE TABLE payment_commissions (
    payment_pk       bigint PRIMARY KEY REFERENCES payments (payment_pk) ON DELETE CASCADE,
    source           text NOT NULL,
    contract_from    date NOT NULL,
    percent          numeric(8, 4) NOT NULL,
    amount_kopecks   bigint NOT NULL CHECK (amount_kopecks >= 0),
    borne_by         text NOT NULL CHECK (borne_by IN ('supplier', 'management', 'payer')),
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (source, contract_from) REFERENCES agent_contracts (source, valid_from)
);

-- One imported bank statement of transfers to suppliers (выписка), imported once (sha256).
CREATE TABLE transfer_files (
    file_id      bigserial PRIMARY KEY,
    sha256       text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    file_name    text NOT NULL,
    rows_posted  integer NOT NULL DEFAULT 0,
    imported_at  timestamptz NOT NULL DEFAULT now()
);

-- A transfer (перечисление) to a supplier for the money of a period (the period the money was collected in).
CREATE TABLE supplier_transfers (
    transfer_id     bigserial PRIMARY KEY,
    file_id         bigint REFERENCES transfer_files (file_id) ON DELETE CASCADE,
    supplier_id     text NOT NULL REFERENCES suppliers (supplier_id),
    period          text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    transferred_on  date NOT NULL,
    document_no     text NOT NULL,
    amount_kopecks  bigint NOT NULL CHECK (amount_kopecks <> 0),
    purpose         text NOT NULL DEFAULT '',
    UNIQUE (supplier_id, document_no, transferred_on)
);
CREATE INDEX supplier_transfers_period_idx ON supplier_transfers (period, supplier_id);

-- взнос на капитальный ремонт: billed per m² for the regional capital-repair operator (its charges come in
-- as that supplier's own charges; the close does not compute it).
INSERT INTO services (service, unit, name_ru) VALUES ('capital_repair', 'm2', 'взнос на капитальный ремонт')
ON CONFLICT (service) DO NOTHING;
