-- Time limits and supervision: the department a case is with, its time limit, how it stands
-- against it, and when the time-limit watcher must next look at it. Each transition row keeps
-- the department, supervision and deadline as they were after the move, so that the log alone
-- says who held a case, and whether it was late, at any moment.

ALTER TABLE cases ADD COLUMN department_code TEXT REFERENCES departments (code);
ALTER TABLE cases ADD COLUMN dispatched_at BIGINT;
ALTER TABLE cases ADD COLUMN deadline_at BIGINT;
ALTER TABLE cases ADD COLUMN supervision TEXT NOT NULL DEFAULT 'none';
ALTER TABLE cases ADD COLUMN next_check_at BIGINT;
CREATE INDEX cases_by_next_check ON cases (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX cases_by_department ON cases (department_code);

ALTER TABLE transitions ADD COLUMN department_code TEXT;
ALTER TABLE transitions ADD COLUMN supervision TEXT NOT NULL DEFAULT 'none';
ALTER TABLE transitions ADD COLUMN deadline_at BIGINT;

-- The live aggregate as of one position in the log (and in the house visits), saved now and
-- then so that a restart folds only the tail of the log instead of rescanning the tables.
-- One row; `format` says which encoding the body is in, and a body of another format is
-- ignored and rebuilt.
CREATE TABLE wall_snapshots (
    id       BIGINT PRIMARY KEY,
    format   BIGINT NOT NULL,
    log_seq  BIGINT NOT NULL,
    visit_id BIGINT NOT NULL,
    saved_at BIGINT NOT NULL,
    body     BLOB NOT NULL
);
