-- The legal department's role (юрист, docs/claims.md): whatever roles earlier migrations allow, plus 'lawyer'.
DO $$
DECLARE
    allowed text[];
BEGIN
    SELECT array_agg(DISTINCT m[1]) INTO allowed
      FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
     WHERE c.conname = 'api_users_role_check';
    allowed := array(SELECT DISTINCT unnest(coalesce(allowed, ARRAY[]::text[]) || ARRAY['lawyer']) ORDER BY 1);
    ALTER TABLE api_users DROP CONSTRAINT IF EXISTS api_users_role_check;
    EXECUTE format('ALTER TABLE api_users ADD CONSTRAINT api_users_role_check CHECK (role = ANY (%L::text[]))',
                   allowed);
END $$;
