// The room server's signing secret: SWITCHBOARD_ROOM_SECRET, SWITCHBOARD_ROOM_SECRET_FILE,
// or generated once into <stateDir>/room-secret (0600). A file others can read is refused:
// anyone who can read it can mint an owner credential.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { MIN_SECRET_BYTES } from './token.js';

export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

export interface LoadedSecret {
  secret: Uint8Array;
  source: 'env' | 'file' | 'generated' | 'state';
  /** The file it came from (never the value). */
  file?: string;
}

const enc = (s: string) => new TextEncoder().encode(s);

function checkPrivate(file: string): void {
  const st = statSync(file);
  if (!st.isFile()) throw new SecretError(`${file} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new SecretError(`${file} is readable or writable by group/others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
  }
}

function readSecretFile(file: string, what: string): Uint8Array {
  checkPrivate(file);
  const value = readFileSync(file, 'utf8').trim();
  if (Buffer.byteLength(value) < MIN_SECRET_BYTES) throw new SecretError(`${what} ${file} holds fewer than ${MIN_SECRET_BYTES} bytes; use a longer random secret`);
  return enc(value);
}

export function loadRoomSecret(opts: { stateDir: string; env?: NodeJS.ProcessEnv }): LoadedSecret {
  const env = opts.env ?? process.env;
  if (env.SWITCHBOARD_ROOM_SECRET !== undefined && env.SWITCHBOARD_ROOM_SECRET !== '') {
    if (Buffer.byteLength(env.SWITCHBOARD_ROOM_SECRET) < MIN_SECRET_BYTES) {
      throw new SecretError(`SWITCHBOARD_ROOM_SECRET must be at least ${MIN_SECRET_BYTES} bytes; use e.g. \`openssl rand -base64 32\``);
    }
    return { secret: enc(env.SWITCHBOARD_ROOM_SECRET), source: 'env' };
  }
  if (env.SWITCHBOARD_ROOM_SECRET_FILE) {
    const file = path.resolve(env.SWITCHBOARD_ROOM_SECRET_FILE);
    try {
      return { secret: readSecretFile(file, 'SWITCHBOARD_ROOM_SECRET_FILE'), source: 'file', file };
    } catch (err) {
      if (err instanceof SecretError) throw err;
      throw new SecretError(`cannot read SWITCHBOARD_ROOM_SECRET_FILE ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const file = path.join(opts.stateDir, 'room-secret');
  try {
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new SecretError(`cannot create the state directory ${opts.stateDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; choose another with --state-dir`);
  }
  try {
    // O_EXCL: two processes starting at once never overwrite each other's secret.
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('base64url')}\n`);
    } finally {
      closeSync(fd);
    }
    return { secret: readSecretFile(file, 'room secret'), source: 'generated', file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new SecretError(`cannot write the room secret ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; choose another --state-dir`);
    }
  }
  return { secret: readSecretFile(file, 'room secret'), source: 'state', file };
}

/** Writes a file only its owner may read (a minted credential), creating its directory 0700. */
export function writePrivateFile(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, 'w', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  // An existing file keeps its old mode on open(); make sure it is private.
  chmodSync(file, 0o600);
}
