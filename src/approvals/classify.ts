// Classification of every server request into an approval kind with the exact choices
// Codex offers, and the one function that turns a reviewer's decision into the wire
// answer. Pure functions over plain data: the approval machine keeps their results in
// its context. Anything not offered, malformed or unknown becomes the fail-closed denial.
import { z } from 'zod';
import { failClosedAnswer, validateServerAnswer, type ServerRequestAnswer } from '../protocol/server-requests.js';
import { summarize } from '../protocol/wire.js';
import { formFields, validateFormContent } from './form.js';
import { normalizePath } from './match.js';
import type {
  ApprovalKind,
  ApprovalOutcome,
  ApprovalRequest,
  Decision,
  RequestHints,
  ReviewSubject,
  ServerRequestData,
} from './types.js';

export const NOT_SUPPORTED_METHODS: ReadonlySet<string> = new Set(['account/chatgptAuthTokens/refresh', 'attestation/generate']);

const nstr = z.string().nullable().optional();
const nz = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

const NetworkAmendmentSchema = z.looseObject({ host: z.string().min(1), action: z.enum(['allow', 'deny']) });

const CommandParams = z.looseObject({
  threadId: z.string(),
  turnId: z.string(),
  itemId: z.string(),
  kind: nstr,
  approvalId: nstr,
  command: nstr,
  cwd: nstr,
  reason: nstr,
  networkApprovalContext: z.looseObject({ host: z.string(), protocol: z.string().optional() }).nullable().optional(),
  commandActions: z.array(z.unknown()).nullable().optional(),
  proposedExecpolicyAmendment: z.array(z.string()).nullable().optional(),
  proposedNetworkPolicyAmendments: z.array(NetworkAmendmentSchema).nullable().optional(),
  availableDecisions: z.array(z.unknown()).nullable().optional(),
});
const FileChangeParams = z.looseObject({ threadId: z.string(), turnId: z.string(), itemId: z.string(), reason: nstr, grantRoot: nstr });
const FsPermissions = z.looseObject({
  read: z.array(z.string()).nullable().optional(),
  write: z.array(z.string()).nullable().optional(),
  globScanMaxDepth: z.number().optional(),
  entries: z.array(z.looseObject({ path: z.unknown(), access: z.string() })).optional(),
});
const PermissionsParams = z.looseObject({
  threadId: z.string(),
  turnId: z.string(),
  itemId: z.string(),
  cwd: nstr,
  reason: nstr,
  permissions: z.looseObject({
    network: z.looseObject({ enabled: z.boolean().nullable().optional() }).nullable().optional(),
    fileSystem: FsPermissions.nullable().optional(),
  }),
});
const ElicitationParams = z.looseObject({
  threadId: z.string(),
  turnId: nstr,
  serverName: z.string(),
  mode: z.string(),
  message: z.string().optional(),
  requestedSchema: z.unknown().optional(),
  url: z.string().optional(),
  elicitationId: z.string().optional(),
  _meta: z.unknown().nullable().optional(),
});
const UserInputParams = z.looseObject({
  threadId: z.string(),
  turnId: z.string(),
  itemId: z.string(),
  questions: z.array(
    z.looseObject({
      id: z.string().min(1),
      header: z.string().optional(),
      question: z.string(),
      isOther: z.boolean().optional(),
      isSecret: z.boolean().optional(),
      options: z.array(z.looseObject({ label: z.string(), description: z.string().optional() })).nullable().optional(),
    }),
  ),
});
const DynamicToolParams = z.looseObject({
  threadId: z.string(),
  turnId: z.string(),
  callId: z.string(),
  namespace: nstr,
  tool: z.string().min(1),
  arguments: z.unknown(),
});
const LegacyExecParams = z.looseObject({
  conversationId: z.string(),
  callId: z.string(),
  approvalId: nstr,
  command: z.array(z.string()),
  cwd: z.string(),
  reason: nstr,
  parsedCmd: z.array(z.unknown()).optional(),
});
const LegacyPatchParams = z.looseObject({
  conversationId: z.string(),
  callId: z.string(),
  fileChanges: z.record(z.string(), z.unknown()),
  reason: nstr,
  grantRoot: nstr,
});

/** What the approval machine does with a request. */
export type Classification =
  | { type: 'review'; request: ApprovalRequest }
  | { type: 'tool'; request: ApprovalRequest }
  | { type: 'immediate'; kind: ApprovalKind | undefined; title: string; answer: ServerRequestAnswer; reason: string };

const METHOD_KIND: Record<string, ApprovalKind> = {
  'item/commandExecution/requestApproval': 'command',
  'item/fileChange/requestApproval': 'fileChange',
  'item/permissions/requestApproval': 'permissions',
  'item/tool/requestUserInput': 'userInput',
  'item/tool/call': 'dynamicTool',
  execCommandApproval: 'legacyCommand',
  applyPatchApproval: 'legacyPatch',
};

const BASIC_CHOICES = ['accept', 'acceptForSession', 'decline', 'cancel'];

/** The command a person should read: the script inside Codex's `bash -lc '...'` wrapper. */
export function displayCommand(command: string | string[]): string {
  if (!Array.isArray(command)) {
    const m = /^(?:\/[\w/]*\/)?(?:ba|z|da|k)?sh\s+-l?c\s+'((?:[^']|'\\'')*)'\s*$/.exec(command);
    return m ? m[1]!.replaceAll(`'\\''`, "'") : command;
  }
  if (command.length === 3 && /(^|\/)(ba|z|da|k)?sh$/.test(command[0]!) && /^-l?c$/.test(command[1]!)) return command[2]!;
  return command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

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

function commandChoices(p: z.infer<typeof CommandParams>): { choices: string[]; offered: Record<string, unknown>; ignored: unknown[] } {
  const offered: Record<string, unknown> = {};
  const ignored: unknown[] = [];
  const add = (decision: unknown) => {
    const id = choiceIdOf(decision);
    // Only shapes the answer schema accepts may ever be offered to a reviewer.
    if (id && !validateServerAnswer('item/commandExecution/requestApproval', { result: { decision } })) offered[id] ??= decision;
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
  return { choices: Object.keys(offered), offered, ignored };
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

const truncate = (s: string, n = 200): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

interface Base {
  approvalId: string;
  req: ServerRequestData;
}

function make(
  { approvalId, req }: Base,
  kind: ApprovalKind,
  fields: Omit<ApprovalRequest, 'approvalId' | 'requestId' | 'method' | 'kind' | 'params' | 'offered'> & {
    params: object;
    offered?: Record<string, unknown>;
  },
): ApprovalRequest {
  return {
    approvalId,
    requestId: req.id,
    method: req.method,
    kind,
    ...fields,
    offered: fields.offered ?? {},
    params: fields.params as Record<string, unknown>,
  };
}

function permissionPaths(fs: z.infer<typeof FsPermissions> | null | undefined, cwd: string | undefined): { paths: string[]; opaque?: string } {
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

function describePermissions(perm: z.infer<typeof PermissionsParams>['permissions']): string {
  const parts: string[] = [];
  if (perm.network?.enabled) parts.push('network access');
  const fs = perm.fileSystem;
  if (fs?.write?.length) parts.push(`write ${fs.write.join(', ')}`);
  if (fs?.read?.length) parts.push(`read ${fs.read.join(', ')}`);
  if (fs?.entries?.length) parts.push(`${fs.entries.length} filesystem entr${fs.entries.length === 1 ? 'y' : 'ies'}`);
  return parts.length ? parts.join('; ') : 'nothing';
}

/**
 * Classify one server request. Never throws: a request we cannot understand is answered
 * at once with its fail-closed denial (`type: 'immediate'`).
 */
export function classifyServerRequest(approvalId: string, req: ServerRequestData, hints: RequestHints = {}): Classification {
  const base = { approvalId, req };
  const immediate = (kind: ApprovalKind | undefined, reason: string, answer = failClosedAnswer(req.method, reason)): Classification => ({
    type: 'immediate',
    kind,
    title: req.method,
    answer,
    reason,
  });
  const invalid = (kind: ApprovalKind, error: z.ZodError): Classification =>
    immediate(kind, `request could not be understood: ${summarize(error)}`, failClosedAnswer(req.method, 'request could not be understood'));

  if (NOT_SUPPORTED_METHODS.has(req.method)) return immediate(undefined, `${req.method} is not supported by Switchboard`);

  if (req.method === 'mcpServer/elicitation/request') {
    const r = ElicitationParams.safeParse(req.params);
    if (!r.success) return invalid('mcpForm', r.error);
    const p = r.data;
    const meta = (typeof p._meta === 'object' && p._meta !== null ? p._meta : {}) as Record<string, unknown>;
    const common = { threadId: p.threadId, turnId: nz(p.turnId), itemId: undefined, params: p };
    if (meta.codex_approval_kind === 'mcp_tool_call') {
      const persist = Array.isArray(meta.persist) ? meta.persist : typeof meta.persist === 'string' ? [meta.persist] : [];
      const tool = typeof meta.tool_name === 'string' ? meta.tool_name : undefined;
      const choices = ['accept'];
      if (persist.includes('session')) choices.push('acceptForSession');
      if (persist.includes('always')) choices.push('acceptAlways');
      choices.push('decline', 'cancel');
      return {
        type: 'review',
        request: make(base, 'mcpToolApproval', {
          ...common,
          title: p.message ?? `Allow ${p.serverName} to run tool "${tool ?? '?'}"?`,
          detail: {
            server: p.serverName,
            tool,
            toolTitle: meta.tool_title,
            description: meta.tool_description,
            arguments: meta.tool_params,
            argumentsDisplay: meta.tool_params_display,
            message: p.message,
          },
          choices,
          subject: { mcpServer: p.serverName, ...(tool ? { mcpTool: tool } : {}) },
        }),
      };
    }
    if (p.mode === 'form' || p.mode === 'openai/form' || p.mode === 'openaiForm') {
      return {
        type: 'review',
        request: make(base, 'mcpForm', {
          ...common,
          title: p.message ?? `${p.serverName} asks for information`,
          detail: { server: p.serverName, message: p.message, fields: formFields(p.requestedSchema), schema: p.requestedSchema },
          choices: ['accept', 'decline', 'cancel'],
          subject: { mcpServer: p.serverName },
        }),
      };
    }
    if (p.mode === 'url') {
      if (!p.url) return immediate('mcpUrl', 'url elicitation without a url');
      const host = hostOf(p.url);
      return {
        type: 'review',
        request: make(base, 'mcpUrl', {
          ...common,
          title: p.message ?? `${p.serverName} asks you to open ${p.url}`,
          detail: { server: p.serverName, message: p.message, url: p.url, elicitationId: p.elicitationId },
          choices: ['accept', 'decline', 'cancel'],
          subject: { mcpServer: p.serverName, ...(host ? { hosts: [host] } : {}) },
        }),
      };
    }
    return immediate('mcpForm', `unsupported elicitation mode "${p.mode}"`);
  }

  const kind = METHOD_KIND[req.method];
  if (!kind) return immediate(undefined, `unknown server request ${req.method}`);

  switch (kind) {
    case 'command': {
      const r = CommandParams.safeParse(req.params);
      if (!r.success) return invalid(kind, r.error);
      const p = r.data;
      const { choices, offered, ignored } = commandChoices(p);
      const raw = p.command ?? '';
      const shown = displayCommand(raw);
      const cwd = nz(p.cwd);
      const hosts = [
        ...(p.networkApprovalContext ? [p.networkApprovalContext.host] : []),
        ...(p.proposedNetworkPolicyAmendments ?? []).map((a) => a.host),
      ];
      const subject: ReviewSubject = { command: raw, ...(cwd ? { cwd } : {}), ...(hosts.length ? { hosts: [...new Set(hosts)] } : {}) };
      return {
        type: 'review',
        request: make(base, kind, {
          threadId: p.threadId,
          turnId: p.turnId,
          itemId: p.itemId,
          title: p.networkApprovalContext ? `Network access to ${p.networkApprovalContext.host}` : `Run: ${truncate(shown)}`,
          detail: {
            command: shown,
            rawCommand: raw,
            cwd,
            reason: nz(p.reason),
            commandKind: nz(p.kind),
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
        }),
      };
    }
    case 'fileChange': {
      const r = FileChangeParams.safeParse(req.params);
      if (!r.success) return invalid(kind, r.error);
      const p = r.data;
      const changes = hints.fileChanges;
      const paths = [...(changes ?? []).map((c) => c.path), ...(p.grantRoot ? [p.grantRoot] : [])];
      const subject: ReviewSubject = changes ? { paths } : {};
      return {
        type: 'review',
        request: make(base, kind, {
          threadId: p.threadId,
          turnId: p.turnId,
          itemId: p.itemId,
          title: changes?.length ? `Change ${changes.map((c) => c.path).join(', ')}` : 'Apply file changes',
          detail: { reason: nz(p.reason), grantRoot: nz(p.grantRoot), changes: changes ?? null },
          choices: [...BASIC_CHOICES],
          subject,
          params: p,
        }),
      };
    }
    case 'permissions': {
      const r = PermissionsParams.safeParse(req.params);
      if (!r.success) return invalid(kind, r.error);
      const p = r.data;
      const cwd = nz(p.cwd);
      const { paths, opaque } = permissionPaths(p.permissions.fileSystem, cwd);
      const network = p.permissions.network?.enabled === true;
      return {
        type: 'review',
        request: make(base, kind, {
          threadId: p.threadId,
          turnId: p.turnId,
          itemId: p.itemId,
          title: `Grant ${describePermissions(p.permissions)}`,
          detail: { reason: nz(p.reason), cwd, permissions: p.permissions, ...(opaque ? { note: opaque } : {}) },
          choices: ['accept', 'acceptForSession', 'decline'],
          subject: {
            ...(cwd ? { cwd } : {}),
            ...(opaque ? {} : { paths }),
            network,
          },
          params: p,
        }),
      };
    }
    case 'userInput': {
      const r = UserInputParams.safeParse(req.params);
      if (!r.success) return invalid(kind, r.error);
      const p = r.data;
      const questions = p.questions.map((q) => ({
        id: q.id,
        header: q.header,
        question: q.question,
        options: nz(q.options)?.map((o) => ({ label: o.label, description: o.description })) ?? null,
        isOther: q.isOther ?? false,
        isSecret: q.isSecret ?? false,
      }));
      const first = questions[0];
      return {
        type: 'review',
        request: make(base, kind, {
          threadId: p.threadId,
          turnId: p.turnId,
          itemId: p.itemId,
          title: first ? truncate(first.header ? `${first.header}: ${first.question}` : first.question) : 'Questions',
          detail: { questions },
          choices: ['answer'],
          subject: {},
          params: p,
        }),
      };
    }
    case 'dynamicTool': {
      const r = DynamicToolParams.safeParse(req.params);
      if (!r.success) return invalid(kind, r.error);
      const p = r.data;
      const name = p.namespace ? `${p.namespace}/${p.tool}` : p.tool;
      return {
        type: 'tool',
        request: make(base, kind, {
          threadId: p.threadId,
          turnId: p.turnId,
          itemId: p.callId,
          title: `Tool: ${name}`,
          detail: { namespace: nz(p.namespace), tool: p.tool, arguments: p.arguments },
          choices: [],
          subject: {},
          params: p,
        }),
      };
    }
    case 'legacyCommand': {
      const r = LegacyExecParams.safeParse(req.params);
      if (!r.success) return invalid(kind, r.error);
      const p = r.data;
      const shown = displayCommand(p.command);
      return {
        type: 'review',
        request: make(base, kind, {
          threadId: p.conversationId,
          turnId: undefined,
          itemId: p.callId,
          title: `Run: ${truncate(shown)}`,
          detail: { command: shown, argv: p.command, cwd: p.cwd, reason: nz(p.reason) },
          choices: [...BASIC_CHOICES],
          subject: { command: shown, argv: p.command, cwd: p.cwd },
          params: p,
        }),
      };
    }
    case 'legacyPatch': {
      const r = LegacyPatchParams.safeParse(req.params);
      if (!r.success) return invalid(kind, r.error);
      const p = r.data;
      const files = Object.keys(p.fileChanges);
      return {
        type: 'review',
        request: make(base, kind, {
          threadId: p.conversationId,
          turnId: undefined,
          itemId: p.callId,
          title: `Change ${files.join(', ') || '(no files)'}`,
          detail: { reason: nz(p.reason), grantRoot: nz(p.grantRoot), fileChanges: p.fileChanges },
          choices: [...BASIC_CHOICES],
          subject: { paths: [...files, ...(p.grantRoot ? [p.grantRoot] : [])] },
          params: p,
        }),
      };
    }
    default:
      return immediate(kind, `no reviewer handles ${req.method}`);
  }
}

export interface AnswerVerdict {
  answer: ServerRequestAnswer;
  outcome: Exclude<ApprovalOutcome, 'withdrawn'>;
  /** True when the answer is the denial because the decision could not be honoured. */
  failClosed: boolean;
  reason: string;
}

/** The fail-closed denial of a classified request. */
export function denialVerdict(method: string, reason: string): AnswerVerdict {
  return { answer: failClosedAnswer(method, reason), outcome: 'denied', failClosed: true, reason };
}

const APPROVING = new Set(['accept', 'acceptForSession', 'acceptAlways', 'acceptWithExecpolicyAmendment']);

function outcomeOf(request: ApprovalRequest, choice: string): AnswerVerdict['outcome'] {
  if (request.kind === 'userInput') return 'answered';
  if (request.kind === 'mcpForm') return choice === 'accept' ? 'answered' : 'denied';
  if (choice.startsWith('applyNetworkPolicyAmendment:')) return choice.startsWith('applyNetworkPolicyAmendment:allow:') ? 'approved' : 'denied';
  return APPROVING.has(choice) ? 'approved' : 'denied';
}

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
function grantPermissions(requested: z.infer<typeof PermissionsParams>['permissions'], content: unknown): PermissionGrant | string {
  const fs = requested.fileSystem ?? undefined;
  if (content === undefined || content === null) {
    const grant: PermissionGrant = {};
    if (requested.network?.enabled) grant.network = { enabled: true };
    if (fs) {
      grant.fileSystem = { read: fs.read ?? null, write: fs.write ?? null };
      if (fs.globScanMaxDepth !== undefined) grant.fileSystem.globScanMaxDepth = fs.globScanMaxDepth;
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
    const badEntries = (want.fileSystem.entries ?? []).filter(
      (e) => !(fs?.entries ?? []).some((x) => JSON.stringify(x) === JSON.stringify(e)),
    );
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

const AnswersSchema = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

function userAnswers(request: ApprovalRequest, content: unknown): Record<string, { answers: string[] }> | string {
  const r = AnswersSchema.safeParse(content);
  if (!r.success) return 'answers must map each question id to a string or a list of strings';
  const questions = (request.detail.questions ?? []) as Array<{ id: string; options: Array<{ label: string }> | null; isOther: boolean }>;
  const out: Record<string, { answers: string[] }> = {};
  for (const id of Object.keys(r.data)) {
    if (!questions.some((q) => q.id === id)) return `unknown question "${id}"`;
  }
  for (const q of questions) {
    const raw = r.data[q.id];
    const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((s) => s.trim()).filter(Boolean);
    if (list.length === 0) return `question "${q.id}" has no answer`;
    if (q.options && q.options.length && !q.isOther) {
      const labels = q.options.map((o) => o.label);
      const bad = list.filter((a) => !labels.includes(a));
      if (bad.length) return `question "${q.id}" allows only ${labels.map((l) => JSON.stringify(l)).join(', ')}`;
    }
    out[q.id] = { answers: list };
  }
  return out;
}

/**
 * Turn a reviewer's decision into the wire answer. A choice that was not offered, content
 * that does not fit, or an answer of the wrong shape all become the fail-closed denial.
 */
export function answerFor(request: ApprovalRequest, decision: Decision): AnswerVerdict {
  const { method } = request;
  const choice = decision.choice;
  const given = decision.reason ?? '';
  if (!request.choices.includes(choice)) {
    return denialVerdict(method, `decision "${choice}" was not offered (offered: ${request.choices.join(', ') || 'none'})`);
  }
  const deny = (why: string) => denialVerdict(method, why);
  let result: unknown;
  switch (request.kind) {
    case 'command':
      result = { decision: request.offered[choice] };
      break;
    case 'fileChange':
      result = { decision: choice };
      break;
    case 'permissions': {
      if (choice === 'decline') {
        result = { permissions: {}, scope: 'turn' };
        break;
      }
      const p = PermissionsParams.parse(request.params);
      const grant = grantPermissions(p.permissions, decision.content);
      if (typeof grant === 'string') return deny(grant);
      result = { permissions: grant, scope: choice === 'acceptForSession' ? 'session' : 'turn' };
      break;
    }
    case 'mcpToolApproval': {
      const persist = choice === 'acceptForSession' ? 'session' : choice === 'acceptAlways' ? 'always' : undefined;
      const action = choice.startsWith('accept') ? 'accept' : choice;
      result = { action, content: null, _meta: persist ? { persist } : null };
      break;
    }
    case 'mcpForm': {
      if (choice !== 'accept') {
        result = { action: choice, content: null, _meta: null };
        break;
      }
      const check = validateFormContent((request.params as { requestedSchema?: unknown }).requestedSchema, decision.content);
      if (!check.ok) return deny(`form answer is invalid: ${check.problem}`);
      result = { action: 'accept', content: check.content, _meta: null };
      break;
    }
    case 'mcpUrl':
      result = { action: choice, content: null, _meta: null };
      break;
    case 'userInput': {
      const answers = userAnswers(request, decision.content);
      if (typeof answers === 'string') return deny(`answer is invalid: ${answers}`);
      result = { answers };
      break;
    }
    case 'legacyCommand':
    case 'legacyPatch': {
      const legacy: Record<string, unknown> = {
        accept: 'approved',
        acceptForSession: 'approved_for_session',
        decline: { denied: { rejection: given || 'declined by the reviewer' } },
        cancel: 'abort',
      };
      result = { decision: legacy[choice] };
      break;
    }
    default:
      return deny(`${request.kind} requests take no decision`);
  }
  const answer: ServerRequestAnswer = { result };
  const problem = validateServerAnswer(method, answer);
  if (problem) return deny(`answer for "${choice}" has the wrong shape: ${problem}`);
  return { answer, outcome: outcomeOf(request, choice), failClosed: false, reason: given || `${choice} by the reviewer` };
}
