// item/commandExecution/requestApproval: run a command (or reach a host). The choices are
// exactly the decisions Codex offered, plus decline; the answer is the offered wire value.
import { CommandApprovalParamsSchema, validateServerAnswer, type CommandApprovalParams } from '../../protocol/server-requests.js';
import type { ReviewSubject } from '../types.js';
import { APPROVING, BASIC_CHOICES, displayCommand, nz, review, truncate, type KindModule, type MethodModule } from './shared.js';

const METHOD = 'item/commandExecution/requestApproval';

/** Choice id for one wire decision Codex offered (undefined: a shape we do not know). */
function choiceIdOf(decision: unknown): string | undefined {
  if (typeof decision === 'string') return BASIC_CHOICES.includes(decision) ? decision : undefined;
  const d = decision as Record<string, unknown> | null;
  if (!d || typeof d !== 'object') return undefined;
  if ('acceptWithExecpolicyAmendment' in d) return 'acceptWithExecpolicyAmendment';
  const net = (d.applyNetworkPolicyAmendment as { network_policy_amendment?: { host?: unknown; action?: unknown } } | undefined)
    ?.network_policy_amendment;
  if (net && typeof net.host === 'string' && typeof net.action === 'string') return `applyNetworkPolicyAmendment:${net.action}:${net.host}`;
  return undefined;
}

function commandChoices(p: CommandApprovalParams): { choices: string[]; offered: Record<string, unknown>; ignored: unknown[] } {
  const offered: Record<string, unknown> = {};
  const ignored: unknown[] = [];
  const add = (decision: unknown) => {
    const id = choiceIdOf(decision);
    // Only shapes the answer schema accepts may ever be offered to a reviewer.
    if (id && !validateServerAnswer(METHOD, { result: { decision } })) offered[id] ??= decision;
    else ignored.push(decision);
  };
  if (p.availableDecisions) {
    for (const d of p.availableDecisions) add(d);
  } else {
    for (const d of BASIC_CHOICES) add(d);
    if (p.proposedExecpolicyAmendment?.length) {
      add({ acceptWithExecpolicyAmendment: { execpolicy_amendment: p.proposedExecpolicyAmendment } });
    }
    for (const a of p.proposedNetworkPolicyAmendments ?? []) {
      add({ applyNetworkPolicyAmendment: { network_policy_amendment: { host: a.host, action: a.action } } });
    }
  }
  // Declining is always possible: it is the denial Codex accepts for every command prompt
  // (0.169 omits it from availableDecisions of escalation prompts yet honours it).
  offered.decline ??= 'decline';
  // A `humanCommand` checkpoint takes a one-time decision only (the schema: accept, decline, cancel).
  if (p.kind === 'humanCommand') {
    for (const id of Object.keys(offered)) {
      if (HUMAN_CHOICES.has(id)) continue;
      ignored.push(offered[id]);
      delete offered[id];
    }
  }
  return { choices: Object.keys(offered), offered, ignored };
}

const HUMAN_CHOICES = new Set(['accept', 'decline', 'cancel']);

/** The prompt's title: what kind of command approval it is (`kind`: command, writeStdin, humanCommand). */
function titleOf(p: CommandApprovalParams, shown: string): string {
  if (p.networkApprovalContext) return `Network access to ${p.networkApprovalContext.host}`;
  if (p.kind === 'writeStdin') return `Write to a running command: ${truncate(shown)}`;
  if (p.kind === 'humanCommand') return `A person must approve: ${truncate(shown)}`;
  return `Run: ${truncate(shown)}`;
}

export const commandRequest: MethodModule<typeof CommandApprovalParamsSchema> = {
  method: METHOD,
  schema: CommandApprovalParamsSchema,
  kind: 'command',
  toRequest(input, p) {
    const { choices, offered, ignored } = commandChoices(p);
    const raw = p.command ?? '';
    const shown = displayCommand(raw);
    const cwd = nz(p.cwd);
    const hosts = [...(p.networkApprovalContext ? [p.networkApprovalContext.host] : []), ...(p.proposedNetworkPolicyAmendments ?? []).map((a) => a.host)];
    const subject: ReviewSubject = { command: raw, ...(cwd ? { cwd } : {}), ...(hosts.length ? { hosts: [...new Set(hosts)] } : {}) };
    return review(input, 'command', {
      threadId: p.threadId,
      turnId: p.turnId,
      itemId: p.itemId,
      title: titleOf(p, shown),
      detail: {
        command: shown,
        rawCommand: raw,
        cwd,
        reason: nz(p.reason),
        commandKind: nz(p.kind) ?? 'command',
        commandActions: nz(p.commandActions),
        network: nz(p.networkApprovalContext),
        execpolicyAmendment: nz(p.proposedExecpolicyAmendment),
        networkAmendments: nz(p.proposedNetworkPolicyAmendments),
        ...(ignored.length ? { unrecognizedDecisions: ignored } : {}),
      },
      choices,
      offered,
      subject,
      params: p,
    });
  },
};

export const commandKind: KindModule = {
  kind: 'command',
  toAnswer: (request, { choice }) => ({ result: { decision: request.offered[choice] } }),
  outcome: (choice) =>
    choice.startsWith('applyNetworkPolicyAmendment:')
      ? choice.startsWith('applyNetworkPolicyAmendment:allow:')
        ? 'approved'
        : 'denied'
      : APPROVING.has(choice)
        ? 'approved'
        : 'denied',
};
