// Rules for the strings a credential carries. Room names also become file names
// (<stateDir>/rooms/<room>.owner.token) and parts of `room/channel/thread` keys.
export const ROLES = ['owner', 'approver', 'member', 'observer', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export const ROOM_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const ROOM_NAME_RULE = 'use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit';
export const PARTICIPANT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
export const PARTICIPANT_ID_RULE = 'use 1-128 letters, digits, ".", "_", "@", "+" or "-", starting with a letter or digit';
const MAX_DISPLAY_NAME = 100;

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);
export const isRoomName = (v: unknown): v is string => typeof v === 'string' && ROOM_NAME_RE.test(v);
export const isParticipantId = (v: unknown): v is string => typeof v === 'string' && PARTICIPANT_ID_RE.test(v);

// C0, DEL, C1, and the bidi overrides/isolates that reorder what a terminal shows.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** A display name with control characters removed, trimmed and capped; undefined if empty. */
export function cleanDisplayName(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.replace(CONTROLS, '').trim().slice(0, MAX_DISPLAY_NAME);
  return s || undefined;
}
