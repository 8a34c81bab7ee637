-- The profile: contacts, addresses, vehicles, children and organisations. Every row belongs
-- to a person and goes with the account (ON DELETE CASCADE); see docs/claims.md for how these
-- rows become claims.

-- Contacts besides the login identifiers. The account's mobile (MBT) and e-mail (EML) live in
-- users.phone / users.email, unique there, so a value bound to another account is refused by
-- the database; this table keeps the others: home phone (PHN) and work e-mail (CEM), which need
-- no confirmation. The type column admits all four ESIA codes.
CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type        TEXT NOT NULL CHECK (type IN ('EML', 'MBT', 'PHN', 'CEM')),
    value       TEXT NOT NULL,
    verified    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    UNIQUE (user_id, type, value)
);
CREATE INDEX contacts_user ON contacts(user_id);

-- Registration (PRG) and residence (PLV) addresses: at most one of each per person.
CREATE TABLE addresses (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type         TEXT NOT NULL CHECK (type IN ('PRG', 'PLV')),
    address_str  TEXT NOT NULL,
    zip_code     TEXT,
    region       TEXT NOT NULL,
    city         TEXT,
    street       TEXT,
    house        TEXT,
    flat         TEXT,
    fias_code    TEXT,
    updated_at   INTEGER NOT NULL,
    UNIQUE (user_id, type)
);

-- Vehicles: the plate in canonical form (Cyrillic letters, e.g. А123ВС77) and the
-- registration certificate (СТС) series and number.
CREATE TABLE vehicles (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    number_plate  TEXT NOT NULL,
    reg_series    TEXT,
    reg_number    TEXT,
    created_at    INTEGER NOT NULL,
    UNIQUE (user_id, number_plate)
);

-- Children: either a link to the child's own account (child_id, typed link code) or a record
-- the parent keeps for a child without an account (names, birth date, gender, SNILS, INN).
CREATE TABLE kids (
    id           TEXT PRIMARY KEY,
    parent_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    child_id     TEXT REFERENCES users(id) ON DELETE CASCADE,
    surname      TEXT,
    given_name   TEXT,
    middle_name  TEXT,
    birthdate    TEXT,                       -- YYYY-MM-DD
    gender       TEXT,                       -- M | F
    snils        TEXT,                       -- 11 digits
    inn          TEXT,                       -- 12 digits
    created_at   INTEGER NOT NULL,
    UNIQUE (parent_id, child_id)
);
CREATE INDEX kids_parent ON kids(parent_id);
CREATE INDEX kids_child ON kids(child_id);

-- Organisations registered by confirmed persons (OGRN and INN with valid check digits), and
-- who acts for them in which role.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    oid         INTEGER NOT NULL UNIQUE,
    ogrn        TEXT NOT NULL UNIQUE,
    inn         TEXT NOT NULL,
    full_name   TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    type        TEXT NOT NULL,               -- LEGAL (legal entity)
    created_at  INTEGER NOT NULL
);

CREATE TABLE org_members (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('chief', 'admin', 'employee')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_user ON org_members(user_id);
