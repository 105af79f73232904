// Who is joining: identity from a verified credential (signed mode), or — only in the
// loopback demo modes — from the frame. Also the Origin allow-list and the loopback rule.
import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { RoomAuthError, type RoomAuth } from '../auth/token.js';
import { CloseCodes, type ClientFrame, type Participant } from './protocol.js';

export type AuthMode = 'signed' | 'shared' | 'none';
type JoinFrame = Extract<ClientFrame, { type: 'join' }>;
export type JoinIdentity = { ok: true; room: string; participant: Participant } | { ok: false; code: number; reason: string };

const sameSecret = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

export async function identify(f: JoinFrame, mode: AuthMode, auth: RoomAuth | undefined, tokens: Record<string, string>): Promise<JoinIdentity> {
  if (mode === 'signed') {
    if (f.participant) return { ok: false, code: CloseCodes.badJoin, reason: 'identity comes from the credential: send no "participant" in signed mode' };
    if (!f.token) return { ok: false, code: CloseCodes.unauthorized, reason: 'this server needs a room credential (switchboard token)' };
    try {
      const c = await auth!.verify(f.token);
      if (f.room !== undefined && f.room !== c.room) return { ok: false, code: CloseCodes.forbidden, reason: `the credential is for another room, not "${f.room}"` };
      return { ok: true, room: c.room, participant: { id: c.id, role: c.role, ...(c.name ? { name: c.name } : {}) } };
    } catch (err) {
      if (err instanceof RoomAuthError) return { ok: false, code: CloseCodes.unauthorized, reason: err.message };
      throw err;
    }
  }
  if (!f.room || !f.participant) return { ok: false, code: CloseCodes.badJoin, reason: 'join needs "room" and "participant" on this server' };
  if (mode === 'shared') {
    const required = Object.hasOwn(tokens, f.room) ? tokens[f.room] : undefined;
    // No open room names: a room without a token is refused like a wrong token.
    if (required === undefined || f.token === undefined || !sameSecret(f.token, required)) {
      return { ok: false, code: CloseCodes.unauthorized, reason: `room "${f.room}" requires a valid token` };
    }
  }
  return { ok: true, room: f.room, participant: f.participant };
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}

/** The browser origins of a server bound at host:port (loopback: every loopback spelling). */
export function ownOrigins(host: string, port: number): string[] {
  const hosts = isLoopbackHost(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [host.includes(':') && !host.startsWith('[') ? `[${host}]` : host];
  return hosts.flatMap((h) => [`http://${h}:${port}`, `https://${h}:${port}`]);
}

/** No Origin (CLI, agents): allowed. A browser Origin must be in the list. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  const o = origin.toLowerCase();
  return allowed.some((a) => a.toLowerCase() === o);
}
