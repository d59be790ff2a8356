-- Idempotency keys: a retried report or move (`Idempotency-Key` header) is answered with the
-- first answer instead of being written again. The case writer stores a key in the transaction
-- of the write it belongs to, so the two commit together or not at all.
--
-- A key is kept per caller (`account:ID`, `api_key:HASH`) and route (`POST /api/cases`, ...),
-- with the fingerprint of the request that first used it (route, method, case and a SHA-256 of
-- the body), the case it produced and the answer, the case as JSON as that write left it.
-- A key is kept for 24 hours from `created_at` (Unix milliseconds): the writer deletes the
-- older ones at the start of every batch that carries a key, through the index on
-- `created_at`, and never answers from one.
-- (PostgreSQL twin of migrations/sqlite/20261207000009_idempotency_keys.sql.)

CREATE TABLE idempotency_keys (
    caller      TEXT   NOT NULL,
    route       TEXT   NOT NULL,
    key         TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,
    case_id     BIGINT NOT NULL,
    answer      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (caller, route, key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
