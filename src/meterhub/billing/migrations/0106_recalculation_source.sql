-- Recalculation lines now say where they come from: 'recheck' (a closed period recomputed from changed
-- inputs, billing-close.md) or 'true_up' (п. 61 ПП 354: averaged volumes trued-up against the reading
-- received later). The source is part of the key, so both kinds may correct the same line in one period,
-- and the recheck's netting of corrections already booked ignores true-up lines.
ALTER TABLE recalculation_lines ADD COLUMN source text NOT NULL DEFAULT 'recheck'
    CHECK (source IN ('recheck', 'true_up'));
ALTER TABLE recalculation_lines DROP CONSTRAINT recalculation_lines_pkey;
ALTER TABLE recalculation_lines ADD PRIMARY KEY
    (building_id, period, corrects_period, account_no, service, kind, zone, part_start, source);
