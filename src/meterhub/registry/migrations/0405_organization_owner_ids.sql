-- An organisation owner's details a court-order application must give (ГПК РФ ст. 124 ч. 2 п. 3: for an
-- organisation the name, the address, ИНН and ОГРН): ИНН of a legal entity (10 digits), ОГРН (13 digits) and the
-- legal address (адрес юридического лица, место нахождения). The check digits are validated by
-- meterhub.registry.org_ids before writing; the database keeps the format. Empty for a citizen owner.
ALTER TABLE registry_owners
    ADD COLUMN organization_inn text NOT NULL DEFAULT '' CHECK (organization_inn ~ '^([0-9]{10})?$'),
    ADD COLUMN organization_ogrn text NOT NULL DEFAULT '' CHECK (organization_ogrn ~ '^([0-9]{13})?$'),
    ADD COLUMN organization_address text NOT NULL DEFAULT '',
    ADD CONSTRAINT registry_owners_organization_ids_check
        CHECK (organization <> '' OR (organization_inn = '' AND organization_ogrn = '' AND organization_address = ''));
