-- A building may take temporary absences (временное отсутствие) from its register: a resident registered at
-- the place of stay in another premise of the register is absent from his own premise over the stay
-- (ПП 354 п. 93: the registration authority's document confirms the absence). Off by default — the
-- recalculation is made on the consumer's application (п. 91); the УК turns it on where the stay
-- registration its passport office recorded is taken as that application (docs/passport-office.md).
ALTER TABLE registry_buildings ADD COLUMN absences_from_register boolean NOT NULL DEFAULT false;
