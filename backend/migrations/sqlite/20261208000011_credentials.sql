-- Demo mode is a property of the database: a row here says the city was built by `gridwall
-- demo` (or the first start that built it), and only then does the server run the simulator,
-- make the demo accounts and open its walls. A database that already holds demo accounts
-- was served in demo mode before this row existed, so it is marked as a demo.
CREATE TABLE city_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO city_meta (key, value)
SELECT 'demo', 'full' WHERE EXISTS (SELECT 1 FROM accounts WHERE demo = 1);

-- Credentials have a lifecycle: an account is disabled (its sessions end), a key or a display
-- token is revoked. Keys and tokens get a number, so that they can be named without showing
-- their hashes; SQLite adds a key column only by building the table anew.
ALTER TABLE accounts ADD COLUMN disabled_at BIGINT;

CREATE TABLE api_keys_new (
    id         INTEGER PRIMARY KEY,
    key_hash   TEXT   NOT NULL UNIQUE,
    name       TEXT   NOT NULL,
    demo       BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
INSERT INTO api_keys_new (key_hash, name, demo, created_at)
SELECT key_hash, name, demo, created_at FROM api_keys ORDER BY created_at, key_hash;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;

CREATE TABLE display_tokens_new (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT   NOT NULL UNIQUE,
    scope      TEXT   NOT NULL,
    label      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
INSERT INTO display_tokens_new (token_hash, scope, label, created_at)
SELECT token_hash, scope, label, created_at FROM display_tokens ORDER BY created_at, token_hash;
DROP TABLE display_tokens;
ALTER TABLE display_tokens_new RENAME TO display_tokens;

-- The periodic purge of expired sessions reads them by expiry.
CREATE INDEX sessions_expiry ON sessions (expires_at);
