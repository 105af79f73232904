// Room credentials: HS256 JWTs (jose) naming the room, the participant and their role.
// The room server takes identity only from a token that verifies here.
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { cleanDisplayName, isParticipantId, isRole, isRoomName, PARTICIPANT_ID_RULE, ROOM_NAME_RULE, type Role } from './names.js';
import { MAX_TTL_SECONDS } from './ttl.js';

const ISSUER = 'switchboard';
const AUDIENCE = 'switchboard';
export const MAX_TOKEN_LENGTH = 4096;
export const MIN_SECRET_BYTES = 32;
export const DEFAULT_TTL_SECONDS = 7 * 86_400;

export interface RoomCredential {
  room: string;
  id: string;
  name?: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
  iat: number;
  jti: string;
}

export interface MintInput {
  room: string;
  id: string;
  role: Role;
  name?: string;
  ttlSeconds?: number;
}

export type AuthFailure = 'malformed' | 'expired' | 'invalid' | 'wrong_room';

export class RoomAuthError extends Error {
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(message);
    this.name = 'RoomAuthError';
  }
}

export interface RoomAuth {
  mint(input: MintInput): Promise<string>;
  /** Verifies signature, issuer, audience, expiry and claims; with `room`, also that the token is for it. */
  verify(token: string, opts?: { room?: string }): Promise<RoomCredential>;
}

export interface RoomAuthOptions {
  secret: string | Uint8Array;
  /** Allowed clock difference when checking exp/iat (default 30 s). */
  clockToleranceSeconds?: number;
  maxTtlSeconds?: number;
}

export function createRoomAuth(o: RoomAuthOptions): RoomAuth {
  const key = typeof o.secret === 'string' ? new TextEncoder().encode(o.secret) : o.secret;
  if (key.byteLength < MIN_SECRET_BYTES) throw new Error(`the room secret must be at least ${MIN_SECRET_BYTES} bytes`);
  const tolerance = o.clockToleranceSeconds ?? 30;
  const maxTtl = o.maxTtlSeconds ?? MAX_TTL_SECONDS;

  return {
    async mint(input) {
      if (!isRoomName(input.room)) throw new Error(`bad room name: ${ROOM_NAME_RULE}`);
      if (!isParticipantId(input.id)) throw new Error(`bad participant id: ${PARTICIPANT_ID_RULE}`);
      if (!isRole(input.role)) throw new Error(`bad role "${String(input.role)}": use owner, approver, member, observer or agent`);
      const ttl = input.ttlSeconds ?? DEFAULT_TTL_SECONDS;
      if (!Number.isInteger(ttl) || ttl <= 0 || ttl > maxTtl) throw new Error(`bad ttl: use 1..${maxTtl} seconds`);
      const name = cleanDisplayName(input.name);
      return new SignJWT({ room: input.room, role: input.role, ...(name ? { name } : {}) })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(input.id)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
        .setJti(randomUUID())
        .sign(key);
    },

    async verify(token, opts = {}) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw new RoomAuthError('malformed', `the credential is missing or longer than ${MAX_TOKEN_LENGTH} characters`);
      }
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          clockTolerance: tolerance,
          requiredClaims: ['exp', 'iat', 'sub', 'jti'],
          maxTokenAge: maxTtl + tolerance,
        }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw new RoomAuthError('expired', 'the credential has expired; ask for a new one (switchboard token)');
        throw new RoomAuthError('invalid', 'the credential is not valid for this server');
      }
      const { room, sub, role, exp, iat, jti } = payload;
      if (!isRoomName(room) || !isParticipantId(sub) || !isRole(role) || typeof exp !== 'number' || typeof iat !== 'number' || typeof jti !== 'string') {
        throw new RoomAuthError('invalid', 'the credential carries malformed claims');
      }
      if (iat > Date.now() / 1000 + tolerance) throw new RoomAuthError('invalid', 'the credential was issued in the future');
      if (opts.room !== undefined && opts.room !== room) throw new RoomAuthError('wrong_room', `the credential is for another room, not "${opts.room}"`);
      const name = cleanDisplayName(payload.name);
      return { room, id: sub, role, exp, iat, jti, ...(name ? { name } : {}) };
    },
  };
}
