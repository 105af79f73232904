-- Version 2: room events a driving node publishes for the room servers of the other nodes
-- (a NOTIFY carries only the seq; readers fetch the rows, and catch up by seq after a reconnect).
CREATE TABLE room_events (
  seq bigserial PRIMARY KEY,
  node text NOT NULL,
  session text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  body jsonb NOT NULL
);
CREATE INDEX room_events_at ON room_events (at);
