// item/permissions/requestApproval: grant extra sandbox permissions. A reviewer grants all
// that was asked or a checked subset of it; declining grants nothing.
import { z } from 'zod';
import {
  PermissionsApprovalParamsSchema,
  type FileSystemPermissions,
  type PermissionsApprovalParams,
} from '../../protocol/server-requests.js';
import { summarize } from '../../protocol/wire.js';
import { normalizePath } from '../match.js';
import { nz, review, type KindModule, type MethodModule } from './shared.js';

type Requested = PermissionsApprovalParams['permissions'];

function permissionPaths(fs: FileSystemPermissions | null | undefined, cwd: string | undefined): { paths: string[]; opaque?: string } {
  const paths: string[] = [];
  let opaque: string | undefined;
  for (const p of [...(fs?.read ?? []), ...(fs?.write ?? [])]) {
    const abs = normalizePath(p, cwd);
    if (abs) paths.push(abs);
    else opaque = `relative path ${p} without a working directory`;
  }
  for (const e of fs?.entries ?? []) {
    const path = e.path as { type?: string; path?: string } | undefined;
    if (path?.type === 'path' && typeof path.path === 'string') {
      const abs = normalizePath(path.path, cwd);
      if (abs) paths.push(abs);
      else opaque = `relative path ${path.path} without a working directory`;
    } else {
      opaque = 'globs or special paths cannot be judged by path rules';
    }
  }
  return opaque ? { paths, opaque } : { paths };
}

function describePermissions(perm: Requested): string {
  const parts: string[] = [];
  if (perm.network?.enabled) parts.push('network access');
  const fs = perm.fileSystem;
  if (fs?.write?.length) parts.push(`write ${fs.write.join(', ')}`);
  if (fs?.read?.length) parts.push(`read ${fs.read.join(', ')}`);
  if (fs?.entries?.length) parts.push(`${fs.entries.length} filesystem entr${fs.entries.length === 1 ? 'y' : 'ies'}`);
  return parts.length ? parts.join('; ') : 'nothing';
}

export const permissionsRequest: MethodModule<typeof PermissionsApprovalParamsSchema> = {
  method: 'item/permissions/requestApproval',
  schema: PermissionsApprovalParamsSchema,
  kind: 'permissions',
  toRequest(input, p) {
    const cwd = nz(p.cwd);
    const { paths, opaque } = permissionPaths(p.permissions.fileSystem, cwd);
    const network = p.permissions.network?.enabled === true;
    return review(input, 'permissions', {
      threadId: p.threadId,
      turnId: p.turnId,
      itemId: p.itemId,
      title: `Grant ${describePermissions(p.permissions)}`,
      detail: { reason: nz(p.reason), cwd, permissions: p.permissions, ...(opaque ? { note: opaque } : {}) },
      choices: ['accept', 'acceptForSession', 'decline'],
      subject: { ...(cwd ? { cwd } : {}), ...(opaque ? {} : { paths }), network },
      params: p,
    });
  },
};

type PermissionGrant = { network?: { enabled: boolean }; fileSystem?: Record<string, unknown> };

const PermissionSubsetSchema = z.strictObject({
  network: z.union([z.boolean(), z.looseObject({ enabled: z.boolean() })]).optional(),
  fileSystem: z
    .strictObject({
      read: z.array(z.string()).optional(),
      write: z.array(z.string()).optional(),
      entries: z.array(z.unknown()).optional(),
    })
    .optional(),
});

/** The granted profile: everything requested, or a checked subset of it. */
function grantPermissions(requested: Requested, content: unknown): PermissionGrant | string {
  const fs = requested.fileSystem ?? undefined;
  if (content === undefined || content === null) {
    const grant: PermissionGrant = {};
    if (requested.network?.enabled) grant.network = { enabled: true };
    if (fs) {
      grant.fileSystem = { read: fs.read ?? null, write: fs.write ?? null };
      if (fs.globScanMaxDepth != null) grant.fileSystem.globScanMaxDepth = fs.globScanMaxDepth;
      if (fs.entries) grant.fileSystem.entries = fs.entries;
    }
    return grant;
  }
  const r = PermissionSubsetSchema.safeParse(content);
  if (!r.success) return `permission subset is malformed: ${summarize(r.error)}`;
  const want = r.data;
  const grant: PermissionGrant = {};
  const wantNetwork = typeof want.network === 'boolean' ? want.network : want.network?.enabled;
  if (wantNetwork) {
    if (!requested.network?.enabled) return 'network access was not requested';
    grant.network = { enabled: true };
  }
  if (want.fileSystem) {
    const notRequested = (asked: string[], offered: string[] | null | undefined) => asked.filter((a) => !(offered ?? []).includes(a));
    const badRead = notRequested(want.fileSystem.read ?? [], fs?.read);
    const badWrite = notRequested(want.fileSystem.write ?? [], fs?.write);
    const badEntries = (want.fileSystem.entries ?? []).filter((e) => !(fs?.entries ?? []).some((x) => JSON.stringify(x) === JSON.stringify(e)));
    if (badRead.length || badWrite.length || badEntries.length) {
      return `not requested: ${[...badRead.map((p) => `read ${p}`), ...badWrite.map((p) => `write ${p}`), ...badEntries.map(() => 'an entry')].join(', ')}`;
    }
    const sub: Record<string, unknown> = {
      read: want.fileSystem.read?.length ? want.fileSystem.read : null,
      write: want.fileSystem.write?.length ? want.fileSystem.write : null,
    };
    if (want.fileSystem.entries?.length) sub.entries = want.fileSystem.entries;
    if (sub.read !== null || sub.write !== null || sub.entries) grant.fileSystem = sub;
  }
  return grant;
}

export const permissionsKind: KindModule = {
  kind: 'permissions',
  toAnswer(request, { choice, content }) {
    if (choice === 'decline') return { result: { permissions: {}, scope: 'turn' } };
    const p = PermissionsApprovalParamsSchema.parse(request.params);
    const grant = grantPermissions(p.permissions, content);
    if (typeof grant === 'string') return { deny: grant };
    return { result: { permissions: grant, scope: choice === 'acceptForSession' ? 'session' : 'turn' } };
  },
};
