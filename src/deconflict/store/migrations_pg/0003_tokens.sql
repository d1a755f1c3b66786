-- 0003: API tokens (only a SHA-256 of the secret is stored) and their scopes.
CREATE TABLE api_tokens (
    id           TEXT COLLATE "C" PRIMARY KEY,
    secret_hash  TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    name         TEXT,
    created_at   TEXT COLLATE "C" NOT NULL,
    revoked_at   TEXT
);
