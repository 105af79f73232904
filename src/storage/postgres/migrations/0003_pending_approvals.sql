-- Version 3: approvals that wait for a person, so a client on any node can decide them, and the
-- decisions a node forwards to the node driving the conversation (answered by that node).
CREATE TABLE approval_pending (
  approval_id text PRIMARY KEY,
  session text NOT NULL,
  -- The driving node and its lease epoch when the room was asked: a decision is forwarded only
  -- while that lease is still current.
  node text NOT NULL,
  epoch bigint NOT NULL,
  kind text NOT NULL,
  -- The approval.requested room event as the room saw it (title, detail, choices, deciders).
  body jsonb NOT NULL,
  -- Who may decide besides room owners/approvers (authorize(): the session owner, the approvers).
  owner text,
  approvers jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  closed_at timestamptz,
  outcome text,
  closed_by text
);
CREATE INDEX approval_pending_open ON approval_pending (session) WHERE closed_at IS NULL;

CREATE TABLE approval_decisions (
  id uuid PRIMARY KEY,
  approval_id text NOT NULL,
  session text NOT NULL,
  -- The node that must apply it, at the epoch the deciding node checked.
  node text NOT NULL,
  epoch bigint NOT NULL,
  from_node text NOT NULL,
  body jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Taken once, by the driving node (to apply it) or by the deciding node (giving up waiting).
  taken_at timestamptz,
  taken_by text,
  answered_at timestamptz,
  ok boolean,
  reason text
);
CREATE INDEX approval_decisions_untaken ON approval_decisions (node) WHERE taken_at IS NULL;
