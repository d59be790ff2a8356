-- One row the case writer rewrites while writes are failing, to learn when they work again.
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY,
    at_ms BIGINT NOT NULL
);
