-- Team views (trends, timesheets) sum whole-day rollups of up to hundreds of people over up to
-- a year. This index holds exactly those rows (hour = -1) with every summed column, so the
-- sums are read from the index alone, in (person, day, category) order. Never edit once landed.
CREATE INDEX rollups_day_totals
    ON rollups(user_id, day, category, active_ms, idle_ms, clocked_ms, input_ms)
    WHERE hour = -1;
