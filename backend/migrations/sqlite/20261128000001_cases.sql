-- The event tables: `cases` holds each case's current state, and `transitions` is the
-- append-only log with one row per change of a case. Both are written in one transaction;
-- the log is the truth that the wall is aggregated from. Times are Unix milliseconds.

CREATE TABLE cases (
    id          INTEGER PRIMARY KEY,
    category    TEXT    NOT NULL,
    grid_id     TEXT,
    lon         REAL,
    lat         REAL,
    description TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    reported_at BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    last_seq    BIGINT  NOT NULL
);

CREATE INDEX cases_by_state ON cases (state);
CREATE INDEX cases_by_reported_at ON cases (reported_at);

CREATE TABLE transitions (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    action     TEXT    NOT NULL,
    from_state TEXT,
    to_state   TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    at         BIGINT  NOT NULL,
    note       TEXT
);

CREATE INDEX transitions_by_case ON transitions (case_id, seq);
CREATE INDEX transitions_by_to_state_at ON transitions (to_state, at);

-- The log is never rewritten: the database itself refuses updates and deletes.
CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN
    SELECT RAISE(ABORT, 'transitions are append-only');
END;

CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
BEGIN
    SELECT RAISE(ABORT, 'transitions are append-only');
END;
