-- A fleet token an admin revoked enrolls no more PCs (the PCs it enrolled stay). Never edit
-- once landed.
ALTER TABLE fleet_tokens ADD COLUMN revoked_at BIGINT;
