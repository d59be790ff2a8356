-- Who may act: accounts with a role and an area, their login sessions, and API keys for
-- outside reporting apps. Passwords, session tokens and keys are stored only as hashes
-- (argon2id for passwords, SHA-256 for the random tokens and keys).

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    login           TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    role            TEXT    NOT NULL,           -- grid_worker | dispatcher | department_staff | leader
    area            TEXT,                       -- a dispatcher's or leader's scope: city | district:CODE | street:CODE
    department_code TEXT    REFERENCES departments (code),
    member_id       BIGINT  REFERENCES members (id),   -- a grid worker's place on the team
    password_hash   TEXT    NOT NULL,
    demo            BIGINT  NOT NULL DEFAULT 0, -- made by demo mode, and refused outside it
    created_at      BIGINT  NOT NULL
);

-- A grid worker's grids.
CREATE TABLE account_grids (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    grid_id    TEXT   NOT NULL REFERENCES grids (id),
    PRIMARY KEY (account_id, grid_id)
);

CREATE TABLE sessions (
    token_hash TEXT   PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    key_hash   TEXT   PRIMARY KEY,
    name       TEXT   NOT NULL,
    demo       BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Each move records the role it was made in, beside the actor.
ALTER TABLE transitions ADD COLUMN role TEXT;
