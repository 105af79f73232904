-- Version 4: commands (`/stop`) a node forwards to the node driving the conversation. The row is
-- the command; the NOTIFY only wakes the target, which takes its rows when notified and after
-- each (re)connect of its LISTEN connection, so a NOTIFY missed while it was down loses nothing.
CREATE TABLE forwarded_commands (
  id uuid PRIMARY KEY,
  session text NOT NULL,
  to_node text NOT NULL,
  from_node text NOT NULL,
  -- The posted message (InboxMessage), checked again by the node that runs it.
  body jsonb NOT NULL,
  -- By the database clock: the target judges a command's age against it, not against its own.
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX forwarded_commands_to_node ON forwarded_commands (to_node);
