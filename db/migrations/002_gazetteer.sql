-- The 一标三实 standard-address gazetteer (one row per standard address).
CREATE TABLE gazetteer_addresses (
    address_code    text PRIMARY KEY CHECK (address_code ~ '^[0-9]{12,}$'),
    level           text NOT NULL CHECK (level IN ('community', 'village_house', 'compound',
                                                   'building', 'door', 'room')),
    district_code   text NOT NULL,
    district        text NOT NULL,
    town_code       text NOT NULL,
    town            text NOT NULL,
    community_code  text NOT NULL,
    community       text NOT NULL,
    grid_code       text NOT NULL DEFAULT '',
    grid            text NOT NULL DEFAULT '',
    road            text NOT NULL DEFAULT '',
    house_no        text NOT NULL DEFAULT '',
    compound        text NOT NULL DEFAULT '',
    building        text NOT NULL DEFAULT '',
    unit_count      integer,
    households      integer,
    population      integer,
    org_count       integer,
    full_address    text NOT NULL,
    aliases         text[] NOT NULL DEFAULT '{}',
    imported_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gazetteer_community ON gazetteer_addresses (community_code);
CREATE INDEX gazetteer_full_address_trgm ON gazetteer_addresses USING gin (full_address gin_trgm_ops);

-- One row per import, so a console can tell whether its cached index is current.
CREATE TABLE gazetteer_imports (
    id          serial PRIMARY KEY,
    source      text NOT NULL,
    rows_read   integer NOT NULL,
    rows_stored integer NOT NULL,
    errors      integer NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
