-- Resident counts weighted by days (ПП 354: n_i × days / days of the month when the count changes
-- inside the period) are fractional: period_volumes.persons becomes numeric.
ALTER TABLE period_volumes ALTER COLUMN persons TYPE numeric;

-- The building prepares hot water itself (its own boiler or heat substation heats the building's cold
-- water): cold-water common property subtracts V^кр, the cold water used for it (ПП 354, Прил. 2, ф. 11).
ALTER TABLE buildings ADD COLUMN prepares_hot_water boolean NOT NULL DEFAULT false;
