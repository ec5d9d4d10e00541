-- worktrace: older versions keep working
-- Ingest rewrites a device's current hour and day rollups at every upload. Those rewrites stay
-- on their page, with no index entry written (PostgreSQL's HOT updates), only while no index
-- holds a column they change and the page has room:
-- - rollups_day_totals held the summed columns (for index-only sums by person and day); the
--   sums by person and day are read from person_days now, so it keeps only (person, day) for
--   the whole-day rows, which the person-day refresh and the day's per-app view read;
-- - rollups_user_day cost every new row an index entry; a person's hours are found through
--   their devices, as on SQLite (its migration 0005);
-- - a page is filled to 80 % by inserts, leaving room for the rewrites of its rows.
-- Older servers read the same rows, some of them more slowly. Never edit once landed.
DROP INDEX rollups_user_day;
DROP INDEX rollups_day_totals;
CREATE INDEX rollups_person_days ON rollups (user_id, day) WHERE hour = -1;
ALTER TABLE rollups SET (fillfactor = 80);
