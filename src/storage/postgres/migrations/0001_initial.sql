-- Version 1: what `dataset` keeps (history, inbox, owners, thread rooms), the thread bindings,
-- and what several nodes need to share one database (nodes, session leases, the inbox as a queue).

CREATE TABLE history (
  seq bigserial PRIMARY KEY,
  session text NOT NULL,
  at bigint NOT NULL,
  kind text NOT NULL,
  body jsonb NOT NULL
);
CREATE INDEX history_session ON history (session, seq);
-- historyByPrefix: `session = p OR session LIKE 'p/%'` on a text_pattern_ops index.
CREATE INDEX history_session_prefix ON history (session text_pattern_ops, seq);

-- position orders the queue (at may tie); client_user_message_id travels with the message to
-- Codex, so a node that takes over can tell whether the thread already has it.
CREATE TABLE inbox (
  id uuid PRIMARY KEY,
  position bigserial NOT NULL UNIQUE,
  session text NOT NULL,
  at bigint NOT NULL,
  body jsonb NOT NULL,
  client_user_message_id uuid NOT NULL UNIQUE,
  turn_id text,
  thread_id text,
  claimed_by text,
  claimed_epoch bigint,
  claimed_at timestamptz
);
CREATE INDEX inbox_session ON inbox (session, position);

CREATE TABLE sessions (
  session text PRIMARY KEY,
  owner text NOT NULL,
  owner_name text,
  at bigint NOT NULL
);

CREATE TABLE threads (
  thread_id text PRIMARY KEY,
  room text NOT NULL,
  session text NOT NULL,
  at bigint NOT NULL,
  ord bigserial NOT NULL
);
CREATE INDEX threads_room ON threads (room, at, ord);

-- One row per agent and conversation key: the Codex thread it is bound to.
CREATE TABLE bindings (
  agent text NOT NULL,
  key text NOT NULL,
  body jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agent, key)
);

CREATE TABLE nodes (
  node text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- The driver of a conversation. A row is never deleted: epoch only grows, so a write fenced
-- by an old epoch stays rejected after a release and a new acquire.
CREATE TABLE session_leases (
  session text PRIMARY KEY,
  node text NOT NULL,
  epoch bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX session_leases_node ON session_leases (node);
