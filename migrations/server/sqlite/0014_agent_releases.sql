-- Agent releases the server offers its PCs, and what each PC last reported of its version and
-- its updates. A release is signed by the vendor; the server keeps the signature beside the
-- file and cannot make one. Files are kept in chunks so any node reads a byte range without
-- loading the whole file. Never edit once landed.

CREATE TABLE releases (
    id        INTEGER PRIMARY KEY,
    platform  TEXT NOT NULL,
    package   TEXT NOT NULL,
    version   TEXT NOT NULL,
    channel   TEXT NOT NULL,
    size      INTEGER NOT NULL,
    sha256    TEXT NOT NULL,
    signature TEXT NOT NULL,
    file_name TEXT NOT NULL,
    added_at  INTEGER NOT NULL,
    UNIQUE (platform, package, version)
);

CREATE TABLE release_chunks (
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    bytes      BLOB NOT NULL,
    PRIMARY KEY (release_id, idx)
);

ALTER TABLE devices ADD COLUMN agent_version TEXT;
ALTER TABLE devices ADD COLUMN agent_platform TEXT;
ALTER TABLE devices ADD COLUMN agent_package TEXT;
ALTER TABLE devices ADD COLUMN update_checked_at INTEGER;
ALTER TABLE devices ADD COLUMN update_problem TEXT;
ALTER TABLE devices ADD COLUMN update_problem_at INTEGER;
