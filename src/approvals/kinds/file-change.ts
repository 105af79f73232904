// item/fileChange/requestApproval: apply a patch. The paths and diffs come from the
// `fileChange` item the router saw (hints); the request itself carries only the item id.
import { FileChangeApprovalParamsSchema } from '../../protocol/server-requests.js';
import type { ReviewSubject } from '../types.js';
import { BASIC_CHOICES, nz, review, type KindModule, type MethodModule } from './shared.js';

export const fileChangeRequest: MethodModule<typeof FileChangeApprovalParamsSchema> = {
  method: 'item/fileChange/requestApproval',
  schema: FileChangeApprovalParamsSchema,
  kind: 'fileChange',
  toRequest(input, p) {
    const changes = input.hints.fileChanges;
    const paths = [...(changes ?? []).map((c) => c.path), ...(p.grantRoot ? [p.grantRoot] : [])];
    const subject: ReviewSubject = changes ? { paths } : {};
    return review(input, 'fileChange', {
      threadId: p.threadId,
      turnId: p.turnId,
      itemId: p.itemId,
      title: changes?.length ? `Change ${changes.map((c) => c.path).join(', ')}` : 'Apply file changes',
      detail: { reason: nz(p.reason), grantRoot: nz(p.grantRoot), changes: changes ?? null },
      choices: [...BASIC_CHOICES],
      subject,
      params: p,
    });
  },
};

export const fileChangeKind: KindModule = {
  kind: 'fileChange',
  toAnswer: (_request, { choice }) => ({ result: { decision: choice } }),
};
