// Room credentials: mint/verify, the server secret file, and `switchboard token` as a user runs it.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { createRoomAuth, loadRoomSecret, RoomAuthError } from '../../src/auth/index.js';
import { resolveStateDir } from '../../src/config/state-dir.js';
import { runCli } from '../support/cli-proc.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-cred-'));
  dirs.push(d);
  return d;
};
const SECRET = 'credential-test-secret-0123456789abcdefgh';

describe('room credentials (mint/verify)', () => {
  const auth = createRoomAuth({ secret: SECRET });

  it('a minted credential verifies with its room, id, name and role', async () => {
    const t = await auth.mint({ room: 'lab', id: 'ann', role: 'approver', name: 'Ann\u001b]52;c;x\u0007 Lee' });
    expect(await auth.verify(t, { room: 'lab' })).toMatchObject({ room: 'lab', id: 'ann', role: 'approver', name: 'Ann]52;c;x Lee' });
  });

  it('expired, wrong secret, wrong room and tampered credentials are refused', async () => {
    const expired = await new SignJWT({ room: 'lab', role: 'owner' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('switchboard')
      .setAudience('switchboard')
      .setSubject('ann')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .setJti('j1')
      .sign(new TextEncoder().encode(SECRET));
    await expect(auth.verify(expired)).rejects.toMatchObject({ reason: 'expired' });
    const foreign = await createRoomAuth({ secret: 'a-different-secret-0123456789abcdefghij' }).mint({ room: 'lab', id: 'ann', role: 'owner' });
    await expect(auth.verify(foreign)).rejects.toMatchObject({ reason: 'invalid' });
    const good = await auth.mint({ room: 'lab', id: 'ann', role: 'member' });
    await expect(auth.verify(good, { room: 'other' })).rejects.toMatchObject({ reason: 'wrong_room' });
    const [h, p, s] = good.split('.');
    const forged = JSON.parse(Buffer.from(p!, 'base64url').toString()) as object;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...forged, role: 'owner' })).toString('base64url')}.${s}`;
    await expect(auth.verify(tampered)).rejects.toBeInstanceOf(RoomAuthError);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    await expect(auth.verify(none)).rejects.toMatchObject({ reason: 'invalid' });
    await expect(auth.verify('x'.repeat(5000))).rejects.toMatchObject({ reason: 'malformed' });
    const badRole = await new SignJWT({ room: 'lab', role: 'root' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('switchboard')
      .setAudience('switchboard')
      .setSubject('ann')
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti('j2')
      .sign(new TextEncoder().encode(SECRET));
    await expect(auth.verify(badRole)).rejects.toMatchObject({ reason: 'invalid' });
  });

  it('minting refuses bad rooms, ids, roles, ttls and short secrets', async () => {
    await expect(auth.mint({ room: 'a/b', id: 'ann', role: 'member' })).rejects.toThrow(/bad room name/);
    await expect(auth.mint({ room: '../x', id: 'ann', role: 'member' })).rejects.toThrow(/bad room name/);
    await expect(auth.mint({ room: 'lab', id: 'an n', role: 'member' })).rejects.toThrow(/bad participant id/);
    await expect(auth.mint({ room: 'lab', id: 'ann', role: 'root' as never })).rejects.toThrow(/bad role/);
    await expect(auth.mint({ room: 'lab', id: 'ann', role: 'member', ttlSeconds: 0 })).rejects.toThrow(/bad ttl/);
    expect(() => createRoomAuth({ secret: 'short' })).toThrow(/at least 32 bytes/);
  });
});

describe('room secret', () => {
  it('is generated on first run into <stateDir>/room-secret with mode 0600, then reused', () => {
    const dir = path.join(tmp(), 'state');
    const a = loadRoomSecret({ stateDir: dir, env: {} });
    expect(a.source).toBe('generated');
    const file = path.join(dir, 'room-secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const b = loadRoomSecret({ stateDir: dir, env: {} });
    expect(b.source).toBe('state');
    expect(Buffer.from(b.secret).equals(Buffer.from(a.secret))).toBe(true);
  });

  it('an existing secret file readable by group/others is refused with a chmod 600 hint', () => {
    const dir = tmp();
    const file = path.join(dir, 'room-secret');
    writeFileSync(file, 'x'.repeat(40));
    chmodSync(file, 0o644);
    expect(() => loadRoomSecret({ stateDir: dir, env: {} })).toThrow(`run: chmod 600 ${file}`);
    expect(() => loadRoomSecret({ stateDir: tmp(), env: { SWITCHBOARD_ROOM_SECRET_FILE: file } })).toThrow(/chmod 600/);
  });

  it('comes from SWITCHBOARD_ROOM_SECRET or _FILE when given; a short one is refused', () => {
    const dir = tmp();
    expect(loadRoomSecret({ stateDir: dir, env: { SWITCHBOARD_ROOM_SECRET: SECRET } }).source).toBe('env');
    expect(() => loadRoomSecret({ stateDir: dir, env: { SWITCHBOARD_ROOM_SECRET: 'short' } })).toThrow(/at least 32 bytes/);
    const file = path.join(dir, 'given');
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    expect(loadRoomSecret({ stateDir: dir, env: { SWITCHBOARD_ROOM_SECRET_FILE: file } })).toMatchObject({ source: 'file', file });
  });

  it('the state directory is --state-dir, else $XDG_STATE_HOME/switchboard, else ~/.local/state/switchboard', () => {
    expect(resolveStateDir({ flag: '/srv/sb', env: {} })).toBe('/srv/sb');
    expect(resolveStateDir({ env: { XDG_STATE_HOME: '/x/state', HOME: '/home/u' } })).toBe('/x/state/switchboard');
    expect(resolveStateDir({ env: { XDG_STATE_HOME: 'relative', HOME: '/home/u' } })).toBe('/home/u/.local/state/switchboard');
  });
});

describe('switchboard token', () => {
  it('prints a credential on stdout only, verifiable with the state dir secret', async () => {
    const state = tmp();
    const p = runCli(['token', '--room', 'lab', '--id', 'ann', '--role', 'approver', '--name', 'Ann', '--ttl', '12h', '--state-dir', state]);
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toBe('');
    const token = p.stdout().trim();
    expect(token.split('.')).toHaveLength(3);
    const secret = readFileSync(path.join(state, 'room-secret'), 'utf8').trim();
    const c = await createRoomAuth({ secret }).verify(token, { room: 'lab' });
    expect(c).toMatchObject({ id: 'ann', role: 'approver', name: 'Ann' });
    expect(c.exp - c.iat).toBe(12 * 3600);
  }, 30_000);

  it.each([
    [['--room', 'lab', '--id', 'ann', '--role', 'root'], /--role "root": use one of owner, approver, member, observer, agent/],
    [['--room', 'lab', '--id', 'ann', '--role', 'member', '--ttl', 'forever'], /--ttl "forever"/],
    [['--room', 'a/b', '--id', 'ann', '--role', 'member'], /--room "a\/b"/],
    [['--room', 'lab', '--id', 'a b', '--role', 'member'], /--id "a b"/],
  ])('bad input %j exits 2 naming the flag', async (args, re) => {
    const p = runCli(['token', ...args, '--state-dir', tmp()]);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(re);
    expect(p.stdout()).toBe('');
  }, 30_000);
});
