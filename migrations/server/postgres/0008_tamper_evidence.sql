-- Tamper evidence: what a device's chain proof showed, and the policy it applies. Never edit
-- once landed.

-- Why the device's chain was flagged, in words (with chain_flag and chain_flag_at).
ALTER TABLE devices ADD COLUMN chain_detail TEXT;
-- The fingerprint of the policy last sent to the device (with an upload's answer).
ALTER TABLE devices ADD COLUMN policy_sha256 TEXT;
-- When the device last reported applying a policy other than the one it was sent, and the
-- fingerprint it reported then.
ALTER TABLE devices ADD COLUMN policy_flag_at BIGINT;
ALTER TABLE devices ADD COLUMN policy_reported TEXT;
