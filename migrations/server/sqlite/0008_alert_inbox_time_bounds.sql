-- The alert inbox by receipt, alerts folded when one PC sends too many, devices flagged for
-- items left out of their batches. Never edit once landed.

-- When the server received the alert: the inbox is ordered by it, not by the device's clock.
-- Older alerts get the best estimate there is: their own time, but never later than their
-- device's last upload.
ALTER TABLE alerts ADD COLUMN received_at INTEGER NOT NULL DEFAULT 0;
UPDATE alerts SET received_at = MIN(at, COALESCE(
    (SELECT last_seen_at FROM devices WHERE devices.id = alerts.device_id), at));
-- 1 when the alert came beyond its PC's hourly limit: kept, but counted on one inbox line
-- instead of listed one by one.
ALTER TABLE alerts ADD COLUMN folded INTEGER NOT NULL DEFAULT 0;
DROP INDEX alerts_user;
CREATE INDEX alerts_inbox ON alerts (user_id, received_at, id);
CREATE INDEX alerts_device_received ON alerts (device_id, received_at);

-- Items left out of the device's batches (times outside the server's window, durations longer
-- than their hour or day): how many in all, when last, and why last.
ALTER TABLE devices ADD COLUMN dropped_items INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN dropped_at INTEGER;
ALTER TABLE devices ADD COLUMN dropped_reason TEXT;

-- A presence dated in the future froze the device's presence (later reports were older):
-- bring it back to the device's last upload.
UPDATE devices SET presence_at = last_seen_at
WHERE presence_at IS NOT NULL AND last_seen_at IS NOT NULL AND presence_at > last_seen_at;
