-- Re-enrollment, titles in the presence, deactivated people. Never edit once landed.

-- The agent database's own id, sent at enrollment. A new enrollment of the same database by
-- the same person takes over the rows of the person's older devices with that id (they are
-- re-uploaded under the new device), and marks them superseded, so nothing counts twice.
ALTER TABLE devices ADD COLUMN install_id TEXT;
ALTER TABLE devices ADD COLUMN superseded_by BIGINT REFERENCES devices(id);
CREATE INDEX devices_install ON devices (user_id, install_id) WHERE install_id IS NOT NULL;

-- The foreground window's title, only when the policy lets titles leave the PC.
ALTER TABLE devices ADD COLUMN presence_title TEXT;

-- A deactivated person cannot log in, their sessions are gone and their devices revoked;
-- their history stays for the records.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
