-- worktrace: older versions keep working
-- Ingest writes a few dozen rollups per upload, and PostgreSQL checked each new one's device
-- and person against their tables (two foreign-key lookups per row, measured as more than
-- half of an insert's time; docs/benchmarks.md). Those checks guard against nothing ingest can
-- do: it takes both ids from the device's row, which it holds locked in the same transaction,
-- and Worktrace never deletes a device or a person (it revokes and deactivates them). The
-- other tables keep their foreign keys. Older servers write the same rows. Never edit once
-- landed.
ALTER TABLE rollups DROP CONSTRAINT rollups_device_id_fkey;
ALTER TABLE rollups DROP CONSTRAINT rollups_user_id_fkey;
