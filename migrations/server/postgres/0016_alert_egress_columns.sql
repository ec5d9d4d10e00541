-- worktrace: older versions keep working
-- The unusual-day check (at ingest) and the risk view read every export alert of a team over
-- 30 days, and took each one's count and incident out of its JSON text: parsing the JSON was
-- five sixths of the query's time (docs/benchmarks.md). PostgreSQL now keeps both beside the
-- text, computed when a row is written, so servers of any version write the rows as before.
-- A text holding an escaped NUL cannot be read by PostgreSQL's JSON functions; ingest refuses
-- those, and such a row counts once without an incident instead of failing the migration.
-- Adding the columns rewrites the table once. Never edit once landed.
ALTER TABLE alerts
    ADD COLUMN egress_count BIGINT GENERATED ALWAYS AS (
        CASE WHEN strpos(event_json, '\u0000') = 0
             THEN COALESCE((event_json::jsonb ->> 'count')::bigint, 1)
             ELSE 1 END) STORED,
    ADD COLUMN incident TEXT GENERATED ALWAYS AS (
        CASE WHEN strpos(event_json, '\u0000') = 0
             THEN event_json::jsonb -> 'details' ->> 'incident' END) STORED;
