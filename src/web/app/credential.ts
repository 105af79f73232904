// The credential arrives in the URL fragment (`#token=…&room=…&channel=…&thread=…`), which
// never reaches a server log. It is moved to sessionStorage (this tab only) and the fragment
// is removed at once with history.replaceState, so the token is not left in the address bar,
// the history or a bookmark.

export interface Target {
  token: string | undefined;
  room: string | undefined;
  channel: string | undefined;
  thread: string | undefined;
}

const KEY = 'switchboard.room';
/** src/auth/token.ts MAX_TOKEN_LENGTH is well below this. */
const MAX_TOKEN = 16_384;
const ROOM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const PART_NAME = /^[^/\s]{1,200}$/;

const pick = (v: string | null, re: RegExp): string | undefined => (v !== null && re.test(v) ? v : undefined);
const tokenOf = (v: string | null | undefined): string | undefined => {
  const t = v?.trim();
  return t && t.length <= MAX_TOKEN && /^[\x21-\x7e]+$/.test(t) ? t : undefined;
};

function fromFragment(hash: string): Target | undefined {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = tokenOf(params.get('token'));
  if (!token) return undefined;
  return { token, room: pick(params.get('room'), ROOM_NAME), channel: pick(params.get('channel'), PART_NAME), thread: pick(params.get('thread'), PART_NAME) };
}

function load(storage: Storage): Target | undefined {
  try {
    const raw = JSON.parse(storage.getItem(KEY) ?? 'null') as Partial<Record<keyof Target, unknown>> | null;
    if (!raw || typeof raw !== 'object') return undefined;
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    const token = tokenOf(str(raw.token));
    return token ? { token, room: pick(str(raw.room), ROOM_NAME), channel: pick(str(raw.channel), PART_NAME), thread: pick(str(raw.thread), PART_NAME) } : undefined;
  } catch {
    return undefined;
  }
}

export function saveTarget(storage: Storage, t: Target): void {
  storage.setItem(KEY, JSON.stringify(t));
}

export function forgetTarget(storage: Storage): void {
  storage.removeItem(KEY);
}

/** Takes the credential out of the URL (into storage) and returns what to join. */
export function takeTarget(loc: Location, hist: History, storage: Storage): Target {
  const fromUrl = loc.hash ? fromFragment(loc.hash) : undefined;
  if (loc.hash) hist.replaceState(hist.state, '', `${loc.pathname}${loc.search}`);
  if (fromUrl) {
    saveTarget(storage, fromUrl);
    return fromUrl;
  }
  return load(storage) ?? { token: undefined, room: undefined, channel: undefined, thread: undefined };
}

/** What a person pasted: the credential itself, or a whole room link carrying it. */
export function parsePasted(text: string): Target | undefined {
  const s = text.trim();
  const hash = s.indexOf('#');
  if (hash >= 0 && s.slice(hash).includes('token=')) return fromFragment(s.slice(hash));
  const token = tokenOf(s);
  return token ? { token, room: undefined, channel: undefined, thread: undefined } : undefined;
}
