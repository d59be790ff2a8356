-- The governed city: areas down to the grid (each with its GeoJSON geometry), the case
-- taxonomy and the departments, the grid team and its changes over time, people and housing
-- per grid, house visits, and the places on the map.

CREATE TABLE districts (
    code       TEXT PRIMARY KEY,
    name_zh    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    kind       TEXT NOT NULL,            -- district | county
    centre_lon REAL NOT NULL,
    centre_lat REAL NOT NULL,
    geometry   TEXT NOT NULL             -- a GeoJSON Polygon or MultiPolygon
);

CREATE TABLE streets (
    code          TEXT PRIMARY KEY,
    district_code TEXT NOT NULL REFERENCES districts (code),
    name_zh       TEXT NOT NULL,
    kind          TEXT NOT NULL,         -- street | township
    geometry      TEXT NOT NULL
);
CREATE INDEX streets_by_district ON streets (district_code);

CREATE TABLE communities (
    code        TEXT PRIMARY KEY,
    street_code TEXT NOT NULL REFERENCES streets (code),
    name_zh     TEXT NOT NULL,
    kind        TEXT NOT NULL            -- community | village
);
CREATE INDEX communities_by_street ON communities (street_code);

CREATE TABLE grids (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    street_code    TEXT NOT NULL REFERENCES streets (code),
    community_code TEXT REFERENCES communities (code),
    kind           TEXT NOT NULL,        -- urban | rural
    geometry       TEXT NOT NULL,
    min_lon        REAL NOT NULL,
    min_lat        REAL NOT NULL,
    max_lon        REAL NOT NULL,
    max_lat        REAL NOT NULL,
    houses         BIGINT NOT NULL DEFAULT 0,
    households     BIGINT NOT NULL DEFAULT 0,
    residents      BIGINT NOT NULL DEFAULT 0,
    organisations  BIGINT NOT NULL DEFAULT 0,
    key_places     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX grids_by_street ON grids (street_code);

CREATE TABLE departments (
    code    TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    level   TEXT NOT NULL                -- city | district
);

CREATE TABLE categories (
    code     TEXT PRIMARY KEY,
    name_zh  TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE sub_items (
    code             TEXT PRIMARY KEY,
    category_code    TEXT NOT NULL REFERENCES categories (code),
    name_zh          TEXT NOT NULL,
    name_en          TEXT NOT NULL,
    time_limit_hours BIGINT NOT NULL,
    department_code  TEXT NOT NULL REFERENCES departments (code)
);

-- The "1+N" grid team: full-time grid workers and co-governance members.
CREATE TABLE members (
    id          BIGINT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,           -- grid_worker | community_police | medical_worker | sent_down_cadre | building_head | volunteer | utility_staff
    street_code TEXT NOT NULL REFERENCES streets (code),
    grid_id     TEXT REFERENCES grids (id),
    active      BIGINT NOT NULL         -- 1 while on the team, 0 after leaving
);
CREATE INDEX members_by_grid ON members (grid_id);

-- Joins, leaves and transfers, so that the team can be counted as of any date.
CREATE TABLE team_changes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id BIGINT NOT NULL REFERENCES members (id),
    kind      TEXT NOT NULL,             -- join | leave | transfer
    at        BIGINT NOT NULL,
    from_grid TEXT,
    to_grid   TEXT
);
CREATE INDEX team_changes_by_at ON team_changes (at);
CREATE INDEX team_changes_by_member ON team_changes (member_id, kind, at);

CREATE TABLE house_visits (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    grid_id   TEXT NOT NULL REFERENCES grids (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    at        BIGINT NOT NULL,
    household TEXT NOT NULL
);
CREATE INDEX house_visits_by_at ON house_visits (at);

-- Points on the map: grid stations, mediation centres and key places.
CREATE TABLE places (
    id      TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,               -- grid_station | mediation_centre | key_place
    name    TEXT NOT NULL,
    grid_id TEXT REFERENCES grids (id),
    lon     REAL NOT NULL,
    lat     REAL NOT NULL
);

ALTER TABLE cases ADD COLUMN sub_item_code TEXT REFERENCES sub_items (code);
ALTER TABLE cases ADD COLUMN reporter_id BIGINT REFERENCES members (id);
CREATE INDEX cases_by_grid ON cases (grid_id);
