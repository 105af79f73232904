// `switchboard token`: mints a room credential with this machine's room secret and prints it
// on stdout only (pipe it into a file: `switchboard token ... > ann.token`). With --link, the
// web room link that carries it (`http://host:port/#token=…`) instead.
import { createRoomAuth } from '../auth/token.js';
import { loadRoomSecret, SecretError } from '../auth/secret.js';
import { isParticipantId, isRole, isRoomName, PARTICIPANT_ID_RULE, ROLES, ROOM_NAME_RULE } from '../auth/names.js';
import { MAX_TTL_SECONDS, parseTtl } from '../auth/ttl.js';
import { resolveStateDir } from '../config/state-dir.js';
import type { Output } from './output.js';
import { LinkBaseError, pageLink } from '../web/link.js';

export interface TokenOptions {
  room: string;
  id: string;
  role: string;
  name?: string;
  ttl?: string;
  stateDir?: string;
  /** The room page's base URL: print the link that opens it with this credential. */
  link?: string;
}

export async function tokenCommand(o: TokenOptions, out: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!isRoomName(o.room)) return usage(out, `--room "${printable(o.room)}": ${ROOM_NAME_RULE}`);
  if (!isParticipantId(o.id)) return usage(out, `--id "${printable(o.id)}": ${PARTICIPANT_ID_RULE}`);
  if (!isRole(o.role)) return usage(out, `--role "${printable(o.role)}": use one of ${ROLES.join(', ')}`);
  if (o.link !== undefined) {
    try {
      pageLink(o.link, 'x');
    } catch (err) {
      if (err instanceof LinkBaseError) return usage(out, `--link ${err.message}`);
      throw err;
    }
  }
  const ttl = parseTtl(o.ttl ?? '7d');
  if (ttl === undefined) return usage(out, `--ttl "${printable(o.ttl ?? '')}": write a duration such as 90s, 30m, 12h, 7d (at most ${MAX_TTL_SECONDS / 86_400}d)`);
  let secret;
  try {
    secret = loadRoomSecret({ stateDir: resolveStateDir({ flag: o.stateDir, env }), env });
  } catch (err) {
    if (err instanceof SecretError) return usage(out, err.message);
    throw err;
  }
  const token = await createRoomAuth({ secret: secret.secret }).mint({ room: o.room, id: o.id, role: o.role, name: o.name, ttlSeconds: ttl });
  out.line(o.link !== undefined ? pageLink(o.link, token) : token);
  return 0;
}

function usage(out: Output, msg: string): number {
  out.error(msg);
  return 2;
}

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
