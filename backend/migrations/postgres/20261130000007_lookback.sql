-- Look back: each scope's live aggregate as it stood at one position in the log, kept every
-- few thousand of the scope's own events, so that the wall as of any past moment is the
-- nearest checkpoint before it plus a short tail of the log folded with the live code.
-- Checkpoints are a cache: they can all be deleted and are rebuilt from the log. `as_of` is
-- the aggregate's clock (Unix ms): a checkpoint serves moments at or after it. A body of
-- another `format` than the server's is ignored and deleted at start.
CREATE TABLE wall_checkpoints (
    scope    TEXT   NOT NULL,
    log_seq  BIGINT NOT NULL,
    visit_id BIGINT NOT NULL,
    as_of    BIGINT NOT NULL,
    format   BIGINT NOT NULL,
    body     BYTEA  NOT NULL,
    PRIMARY KEY (scope, log_seq, visit_id)
);

-- Where a moment cuts the log and the house visits, and a street's visits.
CREATE INDEX transitions_by_at ON transitions (at, seq);
CREATE INDEX house_visits_by_at_id ON house_visits (at, id);
CREATE INDEX house_visits_by_grid ON house_visits (grid_id, id);
