-- The service desk's roles: operator (оператор, диспетчер: registers requests by phone, letter, in person;
-- routes, controls, answers) and contractor (подрядчик: the queue of its own executor only).
ALTER TABLE api_users DROP CONSTRAINT IF EXISTS api_users_role_check;
ALTER TABLE api_users ADD CONSTRAINT api_users_role_check
    CHECK (role IN ('resident', 'engineer', 'accountant', 'admin', 'passport_office', 'operator', 'contractor'));
