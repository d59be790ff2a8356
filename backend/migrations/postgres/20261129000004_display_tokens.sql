-- Read-only display tokens for walls: each opens the live stream of one scope (the city, a
-- district and its streets, or one street). Only a hash of the token is kept.
CREATE TABLE display_tokens (
    token_hash TEXT PRIMARY KEY,
    scope      TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
