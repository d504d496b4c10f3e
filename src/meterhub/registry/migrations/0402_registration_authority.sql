-- The registration authority (орган регистрационного учёта, the МВД subdivision serving the building) is
-- printed on forms № 6, 9, 10 and the справки.
ALTER TABLE registry_buildings ADD COLUMN registration_authority text NOT NULL DEFAULT '';
