-- A person's work sessions and idle decisions are found through their devices and the
-- instants they start at (the primary keys start with device_id, start). The indexes by person
-- and day cost every upload two more index inserts and together a sixth of the writer's
-- log pages. Ingest now refuses a day more than two days from its instant's UTC date, which the
-- agent never sends.
-- Never edit once landed.
DROP INDEX work_sessions_user_day;
DROP INDEX idle_decisions_user_day;
