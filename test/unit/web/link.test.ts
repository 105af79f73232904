// The web room link: the credential in the fragment of the page address, and
// `switchboard token --link` printing it for another participant.
import { describe, expect, it } from 'vitest';
import { createRoomAuth } from '../../../src/auth/index.js';
import { tokenCommand } from '../../../src/cli/token.js';
import type { Output } from '../../../src/cli/output.js';
import { pageLink } from '../../../src/web/link.js';

const SECRET = 'link-test-secret-0123456789abcdef-xyz-0123';

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), write: (t) => void out.push(t), error: (t) => void err.push(t), bold: (t) => t, progress: () => ({ done() {} }) };
}

describe('pageLink', () => {
  it('puts the credential in the fragment of the page address; query, fragment and a missing slash are normalized', () => {
    expect(pageLink('http://127.0.0.1:7300', 'a.b.c')).toBe('http://127.0.0.1:7300/#token=a.b.c');
    expect(pageLink('https://room.example/sb/?x=1#old', 'a.b.c')).toBe('https://room.example/sb/#token=a.b.c');
    expect(pageLink('http://[::1]:8080/', 'a+b')).toBe('http://[::1]:8080/#token=a%2Bb');
  });

  it('refuses anything but an http(s) page address', () => {
    for (const bad of ['ws://127.0.0.1:7300', 'javascript:alert(1)', 'not a url', 'http://user:pw@host/', 'file:///etc/passwd']) expect(() => pageLink(bad, 't')).toThrow();
  });
});

describe('switchboard token --link', () => {
  it('prints the link with a verifiable credential of the given room, id and role', async () => {
    const o = capture();
    const code = await tokenCommand({ room: 'lab', id: 'bob', role: 'approver', link: 'http://127.0.0.1:7300' }, o, { SWITCHBOARD_ROOM_SECRET: SECRET });
    expect([code, o.err]).toEqual([0, []]);
    const m = /^http:\/\/127\.0\.0\.1:7300\/#token=(\S+)$/.exec(o.out[0]!);
    expect(m).not.toBeNull();
    expect(await createRoomAuth({ secret: SECRET }).verify(decodeURIComponent(m![1]!))).toMatchObject({ room: 'lab', id: 'bob', role: 'approver' });
  });

  it('a bad base URL is a usage error naming --link, and nothing is minted', async () => {
    const o = capture();
    expect(await tokenCommand({ room: 'lab', id: 'bob', role: 'member', link: 'ws://127.0.0.1:7300' }, o, { SWITCHBOARD_ROOM_SECRET: SECRET })).toBe(2);
    expect(o.out).toEqual([]);
    expect(o.err[0]).toMatch(/^--link "ws:\/\/127\.0\.0\.1:7300": the page address starts with http:\/\/ or https:\/\//);
  });
});
