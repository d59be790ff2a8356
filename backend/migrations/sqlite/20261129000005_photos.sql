-- Evidence photos: the before photo of a report, the after photo of a resolution, the photo of
-- a verification. A photo is named by the SHA-256 of its bytes (lowercase hex) and its file is
-- PHOTO_DIR/ab/cdef… (the hash's first two characters, then the rest), so the same photo
-- uploaded twice is stored once and no client-given name ever reaches the disk.

CREATE TABLE photos (
    hash         TEXT   PRIMARY KEY,
    content_type TEXT   NOT NULL,   -- image/jpeg | image/png | image/webp, recognised from the bytes
    bytes        BIGINT NOT NULL,
    stored_at    BIGINT NOT NULL    -- when a move first referenced it
);

-- The photos a move attached, in the order they were sent. Part of the transition log: written
-- in the transition's transaction and never rewritten.
CREATE TABLE transition_photos (
    seq      BIGINT NOT NULL REFERENCES transitions (seq),
    position BIGINT NOT NULL,
    hash     TEXT   NOT NULL REFERENCES photos (hash),
    PRIMARY KEY (seq, position)
);

-- Which cases show a photo, for deciding who may fetch it.
CREATE INDEX transition_photos_by_hash ON transition_photos (hash);

CREATE TRIGGER transition_photos_no_update BEFORE UPDATE ON transition_photos
BEGIN
    SELECT RAISE(ABORT, 'transition photos are append-only');
END;

CREATE TRIGGER transition_photos_no_delete BEFORE DELETE ON transition_photos
BEGIN
    SELECT RAISE(ABORT, 'transition photos are append-only');
END;
