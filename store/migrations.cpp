// Numbered schema migrations, embedded in the binary. Each is applied in its
// own transaction at open and recorded in schema_migrations. Never edit a
// migration that has shipped: add a new one.
#include "store/migrations.h"

namespace plugauth::store {
namespace {

// SPEC §4, §8.14 (issue 12): a client_credentials token has no user whose
// roles bound it, so only a client the operator created (registration 'cli',
// confidential) with an explicit scope keeps the grant. Every other holder
// (before version 5, each self-registered confidential client and each
// operator client without a scope) loses it, and the user-less grants it
// already holds are revoked: a token minted through the old hole must not
// outlive the hole. The condition is spelled out in each statement.
constexpr const char* kClientCredentialsLossesSql = R"SQL(
SELECT 'client ' || client_id || ' (registration ' || registration || ') lost the client_credentials grant: ' ||
       CASE WHEN registration <> 'cli' THEN 'only `plugauth client add --grant client_credentials` gives it'
            WHEN is_public <> 0 THEN 'a public client cannot hold it'
            ELSE 'it has no explicit scope (create a client with --grant client_credentials --scope "a b")' END ||
       '; its client_credentials tokens are revoked'
  FROM clients
 WHERE instr(' ' || grant_types || ' ', ' client_credentials ') > 0
   AND NOT (registration = 'cli' AND is_public = 0 AND scope IS NOT NULL AND trim(scope) <> '')
 ORDER BY client_id
)SQL";

constexpr const char* kWithdrawClientCredentialsSql = R"SQL(
UPDATE grant_families SET revoked_at = strftime('%s','now'), revoke_reason = 'client_credentials grant withdrawn'
 WHERE user_id IS NULL AND revoked_at IS NULL
   AND client_id IN (SELECT client_id FROM clients
                      WHERE instr(' ' || grant_types || ' ', ' client_credentials ') > 0
                        AND NOT (registration = 'cli' AND is_public = 0 AND scope IS NOT NULL AND trim(scope) <> ''));
UPDATE access_tokens SET revoked_at = strftime('%s','now')
 WHERE user_id IS NULL AND revoked_at IS NULL
   AND client_id IN (SELECT client_id FROM clients
                      WHERE instr(' ' || grant_types || ' ', ' client_credentials ') > 0
                        AND NOT (registration = 'cli' AND is_public = 0 AND scope IS NOT NULL AND trim(scope) <> ''));
-- Last: the two statements above find the clients by the grant this one removes.
UPDATE clients SET grant_types = trim(replace(' ' || grant_types || ' ', ' client_credentials ', ' ')),
                   updated_at = strftime('%s','now')
 WHERE instr(' ' || grant_types || ' ', ' client_credentials ') > 0
   AND NOT (registration = 'cli' AND is_public = 0 AND scope IS NOT NULL AND trim(scope) <> '');
)SQL";

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all = {
      {1, "initial schema", R"SQL(
CREATE TABLE users (
  id            TEXT PRIMARY KEY,          -- the stable `sub`, random, never reused
  name          TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,             -- argon2id (crypto_pwhash_str)
  totp_sealed   BLOB,                      -- TOTP secret, sealed; NULL: no MFA
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  locked_until  INTEGER NOT NULL DEFAULT 0
);
-- Ids of removed users, so that no `sub` is ever handed out twice.
CREATE TABLE retired_user_ids (
  id         TEXT PRIMARY KEY,
  removed_at INTEGER NOT NULL
);

CREATE TABLE roles (
  name       TEXT PRIMARY KEY,
  scopes     TEXT NOT NULL,                -- space-separated
  created_at INTEGER NOT NULL
);
CREATE TABLE user_roles (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role    TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role)
);

CREATE TABLE clients (
  client_id        TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  secret_hash      BLOB,                   -- keyed hash; NULL for public clients
  is_public        INTEGER NOT NULL DEFAULT 0,
  redirect_uris    TEXT NOT NULL,          -- JSON array of exact strings
  scope            TEXT,                   -- NULL: may request any known scope
  grant_types      TEXT NOT NULL DEFAULT 'authorization_code refresh_token',
  registration     TEXT NOT NULL DEFAULT 'cli',  -- cli | dynamic | metadata_document
  metadata_json    TEXT,                   -- RFC 7591 / CIMD metadata as received
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  last_used_at     INTEGER,
  expires_at       INTEGER                 -- unused dynamic registrations expire
);

-- user_http API keys and service_http service tokens.
CREATE TABLE api_keys (
  key_id       TEXT PRIMARY KEY,           -- public id embedded in the key
  kind         TEXT NOT NULL CHECK (kind IN ('user', 'service')),
  user_id      TEXT REFERENCES users(id) ON DELETE CASCADE,
  service      TEXT,
  name         TEXT NOT NULL DEFAULT '',
  secret_hash  BLOB NOT NULL,
  scope        TEXT,                       -- NULL: whatever the user's roles allow
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  revoked_at   INTEGER,
  CHECK ((kind = 'user') = (user_id IS NOT NULL)),
  CHECK ((kind = 'service') = (service IS NOT NULL))
);
CREATE INDEX api_keys_user ON api_keys(user_id);

-- One grant (one consent, one code exchange or one client_credentials call)
-- and everything issued from it: revoking the family revokes them all.
CREATE TABLE grant_families (
  family_id  TEXT PRIMARY KEY,
  client_id  TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
  scope      TEXT NOT NULL,
  resource   TEXT,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoke_reason TEXT
);

CREATE TABLE authorization_codes (
  code_id        TEXT PRIMARY KEY,
  code_hash      BLOB NOT NULL,
  family_id      TEXT NOT NULL REFERENCES grant_families(family_id) ON DELETE CASCADE,
  client_id      TEXT NOT NULL,
  user_id        TEXT NOT NULL,
  redirect_uri   TEXT NOT NULL,
  scope          TEXT NOT NULL,
  resource       TEXT,
  code_challenge TEXT,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  used_at        INTEGER
);

CREATE TABLE refresh_tokens (
  token_id     TEXT PRIMARY KEY,
  token_hash   BLOB NOT NULL,
  family_id    TEXT NOT NULL REFERENCES grant_families(family_id) ON DELETE CASCADE,
  scope        TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  rotated_at   INTEGER,                    -- set when exchanged for a successor
  successor_id TEXT,
  revoked_at   INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

-- Access tokens issued (JWTs are not stored; their jti and family are, so
-- that a family, a user or a client can be revoked before exp).
CREATE TABLE access_tokens (
  jti        TEXT PRIMARY KEY,
  family_id  TEXT REFERENCES grant_families(family_id) ON DELETE CASCADE,
  client_id  TEXT NOT NULL,
  user_id    TEXT,
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX access_tokens_family ON access_tokens(family_id);
CREATE INDEX access_tokens_expiry ON access_tokens(expires_at);

CREATE TABLE signing_keys (
  kid            TEXT PRIMARY KEY,
  alg            TEXT NOT NULL CHECK (alg IN ('EdDSA', 'HS256')),
  public_key     BLOB,                     -- Ed25519 public key; NULL for HS256
  secret_sealed  BLOB NOT NULL,            -- private key / HMAC key, sealed
  created_at     INTEGER NOT NULL,
  retired_at     INTEGER,                  -- no longer signs; still verifies
  expires_at     INTEGER                   -- after this, not even in JWKS
);

-- Tokens the assistant platform gives the developer for the manifest.
CREATE TABLE verification_tokens (
  service    TEXT PRIMARY KEY,
  token      TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- RFC 7591 initial access tokens, for `registration: token`.
CREATE TABLE registration_tokens (
  token_id    TEXT PRIMARY KEY,
  token_hash  BLOB NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER,
  revoked_at  INTEGER
);

-- Browser sessions of /authorize and /account.
CREATE TABLE sessions (
  session_id  TEXT PRIMARY KEY,
  token_hash  BLOB NOT NULL,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);

CREATE TABLE audit_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         INTEGER NOT NULL,
  action     TEXT NOT NULL,
  subject    TEXT,
  client_id  TEXT,
  key_id     TEXT,
  api_path   TEXT,
  status     INTEGER,
  client_ip  TEXT,
  detail     TEXT
);
CREATE INDEX audit_events_at ON audit_events(at);
CREATE INDEX audit_events_action ON audit_events(action, at);

-- The built-in role every new user gets. Its scopes: every known scope,
-- until an operator changes them with `plugauth role add user --scope …`.
INSERT INTO roles (name, scopes, created_at) VALUES ('user', '*', 0);
)SQL"},
      {2, "indexes for revoking by user, client and family", R"SQL(
CREATE INDEX grant_families_user ON grant_families(user_id);
CREATE INDEX grant_families_client ON grant_families(client_id);
CREATE INDEX access_tokens_client ON access_tokens(client_id);
CREATE INDEX authorization_codes_family ON authorization_codes(family_id);
)SQL"},
      {3, "audit rows count identical events", R"SQL(
-- One row stands for `count` identical events of the same second.
ALTER TABLE audit_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1);
)SQL"},
      {4, "two-step sign-in and unlocking accounts", R"SQL(
-- The last TOTP step accepted for the user: a code works once.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
-- When `plugauth user unlock` last ran: earlier sign-in failures stop counting.
ALTER TABLE users ADD COLUMN unlocked_at INTEGER NOT NULL DEFAULT 0;
)SQL"},
      {5, "client_credentials only for operator clients with an explicit scope", kWithdrawClientCredentialsSql,
       kClientCredentialsLossesSql},
      {6, "what serve runs with; sessions by user", R"SQL(
-- Settings `serve` records for the CLI to follow (SPEC §4): the signing
-- algorithm and access-token lifetime a `signing-key rotate` must use.
CREATE TABLE served_settings (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
-- Ending a user's sign-ins deletes their sessions.
CREATE INDEX sessions_user ON sessions(user_id);
)SQL"},
      {7, "resource servers: clients that may introspect every token", R"SQL(
-- SPEC §3 /introspect (issue 18): set only by `plugauth client add --introspect`;
-- every existing client starts without it, so a client that could read any
-- token's answer before this version now learns only about its own tokens.
ALTER TABLE clients ADD COLUMN introspect INTEGER NOT NULL DEFAULT 0 CHECK (introspect IN (0, 1));
)SQL"},
      {8, "consecutive wrong authenticator codes lock an account's sign-in", R"SQL(
-- Wrong authenticator codes sent with the right password since the account's
-- last successful sign-in (SPEC §8.9, NIST SP 800-63B §5.2.2); at 100 the
-- account's sign-in is locked (code_locked_at) until `plugauth user unlock`
-- or `plugauth user passwd`.
ALTER TABLE users ADD COLUMN wrong_codes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN code_locked_at INTEGER;
)SQL"},
      {9, "when a session last entered the password", R"SQL(
-- SPEC §8.16: creating an API key at /account needs the password entered
-- within the last 10 minutes, at sign-in or on a form. NULL: at sign-in
-- (created_at), the case of every session older than this version.
ALTER TABLE sessions ADD COLUMN authenticated_at INTEGER;
)SQL"},
  };
  return all;
}

}  // namespace plugauth::store
