// The embedding API's input schemas: what a host may hand to post() and decide().
import path from 'node:path';
import { z } from 'zod';
import { RoleSchema } from '../approvals/authorize.js';
import { validateHostAttachments, validateRoomAttachments } from '../attachments/index.js';
import type { SwitchboardConfig } from '../config/schema.js';

const name = z.string().min(1).max(200).regex(/^[^/\s]+$/, 'no slashes or spaces');

export const PostSchema = z.strictObject({
  room: name,
  channel: name.default('chat'),
  thread: name.default('main'),
  /** `role` absent: the host itself vouches for `id`; present: the verified role from a room credential. */
  from: z.strictObject({ id: z.string().min(1).max(200), name: z.string().max(200).optional(), role: RoleSchema.optional() }),
  text: z.string().min(1, 'text must not be empty'),
  attachments: z.array(z.record(z.string(), z.unknown())).optional(),
  /** Which configured agent answers; default: the default agent. */
  agent: z.string().optional(),
});
export type PostInput = z.input<typeof PostSchema>;

export const DecideSchema = z.object({
  approvalId: z.string().min(1, 'approvalId is required').max(200),
  by: z.string().min(1, 'by (who decides) is required').max(200),
  role: RoleSchema.optional(),
  decision: z.string().min(1, 'decision is required').max(200),
  content: z.unknown().optional(),
  /** The room the decision came from (an approval of another room is refused). */
  room: z.string().min(1).max(200).optional(),
});
export type DecideInput = z.input<typeof DecideSchema>;

/**
 * A post's attachments, checked before anything is stored: from a room (a verified role is
 * present) only remote forms (URLs, uploaded bytes); from the host itself, local files too,
 * resolved inside the agent's workspace or the configured roots.
 */
export async function checkAttachments(
  list: Array<Record<string, unknown>> | undefined,
  viaRoom: boolean,
  cwd: string,
  config: SwitchboardConfig,
  baseDir: string,
): Promise<Array<Record<string, unknown>> | undefined> {
  if (!list?.length) return list;
  const a = config.attachments;
  const checked = viaRoom
    ? validateRoomAttachments(list, { uploadMaxBytes: a.uploadMaxBytes, maxCount: a.maxCount })
    : await validateHostAttachments(list, {
        cwd: path.resolve(baseDir, cwd),
        roots: a.roots.map((r) => path.resolve(baseDir, r)),
        maxBytes: a.maxBytes,
        uploadMaxBytes: a.uploadMaxBytes,
        maxCount: a.maxCount,
      });
  return checked as unknown as Array<Record<string, unknown>>;
}
