// The server's version comes from `userAgent`: "NAME/0.169.0 (Debian ...) ...".

const DEFAULT_MIN_VERSION = '0.118.0';

export function versionFromUserAgent(userAgent: string | undefined): string | undefined {
  if (!userAgent) return undefined;
  const slash = userAgent.indexOf('/');
  if (slash < 0) return undefined;
  const rest = userAgent.slice(slash + 1).trim();
  const token = rest.split(/[\s(]/, 1)[0];
  return token && /^\d+\.\d+\.\d+/.test(token) ? token : undefined;
}

interface Parsed {
  nums: [number, number, number];
  pre: string[];
}

function parse(v: string): Parsed | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(v);
  if (!m) return undefined;
  return { nums: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.') : [] };
}

/** Semver precedence: -1, 0, 1; undefined when either side is not a version. */
export function compareVersions(a: string, b: string): number | undefined {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return undefined;
  for (let i = 0; i < 3; i++) {
    const d = pa.nums[i]! - pb.nums[i]!;
    if (d !== 0) return Math.sign(d);
  }
  // A pre-release sorts before its release.
  if (pa.pre.length === 0 || pb.pre.length === 0) return Math.sign(pb.pre.length - pa.pre.length);
  for (let i = 0; i < Math.max(pa.pre.length, pb.pre.length); i++) {
    const x = pa.pre[i];
    const y = pb.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : undefined;
    const ny = /^\d+$/.test(y) ? Number(y) : undefined;
    if (nx !== undefined && ny !== undefined) {
      if (nx !== ny) return Math.sign(nx - ny);
    } else if (nx !== undefined) return -1;
    else if (ny !== undefined) return 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export type VersionVerdict = { ok: true; version: string } | { ok: false; version: string | undefined; message: string };

export function checkVersion(userAgent: string | undefined, minVersion = DEFAULT_MIN_VERSION): VersionVerdict {
  const version = versionFromUserAgent(userAgent);
  const cmp = version === undefined ? undefined : compareVersions(version, minVersion);
  if (version !== undefined && cmp !== undefined && cmp >= 0) return { ok: true, version };
  return {
    ok: false,
    version,
    message: `Codex app-server ${minVersion} or newer is required, found ${version ?? (userAgent ? `unversioned "${userAgent}"` : 'no version')}`,
  };
}
