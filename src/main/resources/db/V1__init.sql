-- Card table replica: holders, cards, the per-holder highest issue ever seen active,
-- and the last applied card-event seq. Written only by CardEventApplier.
CREATE TABLE card_feed (
  id             smallint PRIMARY KEY CHECK (id = 1),
  applied_seq    bigint      NOT NULL,
  last_event_at  timestamptz
);
INSERT INTO card_feed (id, applied_seq) VALUES (1, 0);

CREATE TABLE holders (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  class       text NOT NULL,
  active      boolean NOT NULL,
  photo       bytea,
  seq         bigint NOT NULL,
  updated_at  timestamptz NOT NULL
);

CREATE TABLE cards (
  uid         text PRIMARY KEY,
  holder_id   text NOT NULL,
  issue       integer NOT NULL,
  kind        text NOT NULL,
  state       text NOT NULL,
  seq         bigint NOT NULL,
  updated_at  timestamptz NOT NULL
);

-- The newest-card mark: never lowered. raised_at is when this gateway learnt of the
-- newer card (shown to the guard as the replacement date on a superseded card).
CREATE TABLE holder_marks (
  holder_id     text PRIMARY KEY,
  highest_issue integer NOT NULL,
  raised_at     timestamptz NOT NULL
);

-- Pass events: the local pass log and the durable outbox toward the centre.
-- n gives the commit order (and so the order per reader) for the outbox.
CREATE TABLE passes (
  n          bigserial PRIMARY KEY,
  id         uuid NOT NULL UNIQUE,
  reader     text,
  gate       text NOT NULL,
  direction  text NOT NULL,
  card       text,
  holder_id  text,
  open       boolean NOT NULL,
  reason     text NOT NULL,
  at         timestamptz NOT NULL,
  source     text NOT NULL,
  guard      text,
  note       text,
  tap_seq    bigint,
  sent_at    timestamptz
);
CREATE INDEX passes_outbox ON passes (n) WHERE sent_at IS NULL;
CREATE INDEX passes_at ON passes (at);
