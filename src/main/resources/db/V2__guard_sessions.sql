-- Guard sessions, so that a restart of the gateway (an upgrade, a crash, a power cut during
-- the morning rush) does not send every guard's screen back to the login page. Written
-- through by DurableSessionStore; the sessions in memory stay the ones in use.
-- Keyed by the SHA-256 of the session id: a copy of the database gives no usable cookie.
CREATE TABLE guard_sessions (
  id_hash        bytea PRIMARY KEY,
  data           text NOT NULL,    -- the session's values as JSON: guard login, CSRF token
  last_accessed  bigint NOT NULL,  -- epoch ms
  timeout_ms     bigint NOT NULL
);
