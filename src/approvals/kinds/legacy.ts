// The v1 requests some Codex builds still send: execCommandApproval (legacyCommand) and
// applyPatchApproval (legacyPatch). Same four choices; the answer uses the v1 vocabulary.
import { LegacyApplyPatchParamsSchema, LegacyExecCommandParamsSchema } from '../../protocol/server-requests.js';
import { BASIC_CHOICES, displayCommand, nz, review, truncate, type KindAnswer, type KindModule, type MethodModule } from './shared.js';
import type { Decision } from '../types.js';

export const legacyCommandRequest: MethodModule<typeof LegacyExecCommandParamsSchema> = {
  method: 'execCommandApproval',
  schema: LegacyExecCommandParamsSchema,
  kind: 'legacyCommand',
  toRequest(input, p) {
    const shown = displayCommand(p.command);
    return review(input, 'legacyCommand', {
      threadId: p.conversationId,
      turnId: undefined,
      itemId: p.callId,
      title: `Run: ${truncate(shown)}`,
      detail: { command: shown, argv: p.command, cwd: p.cwd, reason: nz(p.reason) },
      choices: [...BASIC_CHOICES],
      subject: { command: shown, argv: p.command, cwd: p.cwd },
      params: p,
    });
  },
};

export const legacyPatchRequest: MethodModule<typeof LegacyApplyPatchParamsSchema> = {
  method: 'applyPatchApproval',
  schema: LegacyApplyPatchParamsSchema,
  kind: 'legacyPatch',
  toRequest(input, p) {
    const files = Object.keys(p.fileChanges);
    return review(input, 'legacyPatch', {
      threadId: p.conversationId,
      turnId: undefined,
      itemId: p.callId,
      title: `Change ${files.join(', ') || '(no files)'}`,
      detail: { reason: nz(p.reason), grantRoot: nz(p.grantRoot), fileChanges: p.fileChanges },
      choices: [...BASIC_CHOICES],
      subject: { paths: [...files, ...(p.grantRoot ? [p.grantRoot] : [])] },
      params: p,
    });
  },
};

function legacyAnswer(_request: unknown, { choice, reason }: Decision): KindAnswer {
  const legacy: Record<string, unknown> = {
    accept: 'approved',
    acceptForSession: 'approved_for_session',
    decline: { denied: { rejection: reason || 'declined by the reviewer' } },
    cancel: 'abort',
  };
  return { result: { decision: legacy[choice] } };
}

export const legacyCommandKind: KindModule = { kind: 'legacyCommand', toAnswer: legacyAnswer };
export const legacyPatchKind: KindModule = { kind: 'legacyPatch', toAnswer: legacyAnswer };
