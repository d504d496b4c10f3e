-- Several sessions (ingest writers, ingest processes, imports) may reach a new month at the same
-- moment. Two concurrent CREATE TABLE ... PARTITION OF of the same name make the second fail with a
-- unique violation in the catalog instead of finding the table: the sessions now take a
-- transaction-scoped advisory lock per partition name, so one creates it and the others, once it
-- committed, see it. A duplicate that still slips through (another tool creating partitions
-- without the lock) is ignored.
CREATE OR REPLACE FUNCTION meterhub_ensure_partitions(p_table text, p_from timestamptz, p_to timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    m timestamptz := date_trunc('month', p_from AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    created integer := 0;
    part text;
BEGIN
    WHILE m <= p_to LOOP
        part := p_table || '_' || to_char(m AT TIME ZONE 'UTC', 'YYYYMM');
        IF to_regclass(part) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext('meterhub_ensure_partitions'), hashtext(part));
            BEGIN
                IF to_regclass(part) IS NULL THEN
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                                   part, p_table, m, m + interval '1 month');
                    created := created + 1;
                END IF;
            EXCEPTION WHEN duplicate_table OR unique_violation THEN
                NULL;  -- made by another session meanwhile
            END;
        END IF;
        m := m + interval '1 month';
    END LOOP;
    RETURN created;
END $$;
