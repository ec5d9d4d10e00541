-- A person's rollups are found through their devices (the primary key starts with device_id,
-- day, hour) or, for whole days, through rollups_day_totals. rollups_user_day cost every
-- upload of a new day 32 more index inserts and a page of the write-ahead log.
-- Never edit once landed.
DROP INDEX rollups_user_day;
