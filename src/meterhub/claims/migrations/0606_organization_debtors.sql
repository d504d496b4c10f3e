-- An organisation debtor (a legal entity or the municipality owning a premise) as the court-order application
-- must name it (ГПК РФ ст. 124 ч. 2 п. 3: the name, the address, ИНН and ОГРН), copied from the register's
-- owner (registry_owners.organization_inn, _ogrn, _address, migration 0405) when the case is prepared, as the
-- debtor's name and birth date are: the application says what the register said that day.
ALTER TABLE claims_case_debtors
    ADD COLUMN organization boolean NOT NULL DEFAULT false,
    ADD COLUMN inn text NOT NULL DEFAULT '',
    ADD COLUMN ogrn text NOT NULL DEFAULT '',
    ADD COLUMN legal_address text NOT NULL DEFAULT '';
