// Our protocol layer against the authoritative JSON Schema that the installed codex binary
// generates at test time (never committed): methods must exist, messages must validate.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientRequests, type ClientMethod } from '../../src/protocol/client-requests.js';
import { failClosedAnswer, serverAnswerSchemas, serverRequestSchemas } from '../../src/protocol/server-requests.js';
import { notificationSchemas } from '../../src/protocol/notifications.js';
import { encodeNotification, encodeRequest } from '../../src/protocol/wire.js';
import { classifyServerRequest } from '../../src/approvals/classify.js';
import { commandParams, samples as requestSamples, serverRequest, toolApprovalParams, urlParams, userInputParams } from '../support/approval-fixtures.js';
import { makeRouter } from '../support/approval-router.js';
import { SERVER_NOTICE_METHODS } from '../../src/supervisor/codex-notices.js';
import { parseReviewArgs } from '../../src/supervisor/review-args.js';
import { accountText, mcpText, rateLimitsText, skillsText, ThreadPageSchema } from '../../src/supervisor/codex-format.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const codex = path.join(repo, 'node_modules', '.bin', 'codex');
let dir: string;
/** The schema with `--experimental`: what a client that sets `experimentalApi` (Switchboard by default) may receive. */
let xdir: string;
const load = (name: string) => JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as Record<string, unknown>;
const loadX = (name: string) => JSON.parse(readFileSync(path.join(xdir, name), 'utf8')) as Record<string, unknown>;
const methodsOf = (schema: Record<string, unknown>): string[] =>
  (schema.oneOf as Array<{ properties: { method: { enum: string[] } } }>).map((b) => b.properties.method.enum[0]!);

let ajv: Ajv;
let clientRequest: ValidateFunction;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sb-schema-'));
  execFileSync(codex, ['app-server', 'generate-json-schema', '--out', dir], { stdio: 'ignore' });
  xdir = mkdtempSync(path.join(tmpdir(), 'sb-schema-x-'));
  execFileSync(codex, ['app-server', 'generate-json-schema', '--experimental', '--out', xdir], { stdio: 'ignore' });
  ajv = new Ajv({ strict: false, allErrors: true });
  // Rust integer formats in the generated schema; the JSON type check is what matters.
  for (const f of ['int64', 'uint64', 'int32', 'uint32', 'uint16', 'uint8', 'uint', 'double', 'float']) ajv.addFormat(f, true);
  clientRequest = ajv.compile(load('ClientRequest.json'));
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(xdir, { recursive: true, force: true });
});

/** A sample of every request we build, with params as the runtime builds them. */
const samples: { [M in ClientMethod]: unknown } = {
  initialize: {
    clientInfo: { name: 'switchboard', title: 'Switchboard', version: '0.1.0' },
    capabilities: { experimentalApi: true, requestAttestation: false, requiredHumanApproval: true },
  },
  'thread/start': {
    cwd: '/tmp/w',
    model: 'gpt-5.5',
    approvalPolicy: 'on-request',
    sandbox: 'workspace-write',
    approvalsReviewer: 'user',
    developerInstructions: 'Be brief.',
  },
  'thread/resume': { threadId: 'thr_1', model: 'gpt-5.5', cwd: '/tmp/w', approvalPolicy: 'never', sandbox: 'danger-full-access' },
  'turn/start': {
    threadId: 'thr_1',
    input: [
      { type: 'text', text: 'hello', text_elements: [] },
      { type: 'image', url: 'https://example.com/a.png' },
      { type: 'localImage', path: '/tmp/a.png' },
      { type: 'mention', name: 'file', path: '/tmp/w/a.ts' },
    ],
    model: 'gpt-5.5',
    effort: 'high',
    clientUserMessageId: 'inbox-1',
  },
  'turn/steer': { threadId: 'thr_1', input: [{ type: 'text', text: 'also this', text_elements: [] }], expectedTurnId: 'turn_1', clientUserMessageId: 'inbox-2' },
  'turn/interrupt': { threadId: 'thr_1', turnId: 'turn_1' },
  'model/list': { cursor: null, limit: 50 },
  'thread/list': { limit: 25, sortKey: 'updated_at', searchTerm: 'lab', cursor: 'c1' },
  'thread/read': { threadId: 'thr_1', includeTurns: false },
  'thread/fork': { threadId: 'thr_1', excludeTurns: true, cwd: '/tmp/w', model: 'gpt-5.5', approvalPolicy: 'never', sandbox: 'workspace-write' },
  'thread/revert': { threadId: 'thr_1', beforeTurnId: 'turn_2' },
  'thread/turns/list': { threadId: 'thr_1', limit: 5, sortDirection: 'desc', itemsView: 'full' },
  'thread/loaded/list': { cursor: 'c1' },
  'thread/compact/start': { threadId: 'thr_1' },
  'review/start': { threadId: 'thr_1', target: { type: 'uncommittedChanges' }, delivery: 'inline' },
  'account/read': {},
  'account/rateLimits/read': undefined,
  'mcpServerStatus/list': { detail: 'toolsAndAuthOnly' },
  'skills/list': { cwds: ['/tmp/w'] },
  'config/read': { includeLayers: false },
  'thread/name/set': { threadId: 'thr_1', name: 'Room chat' },
  'thread/archive': { threadId: 'thr_1' },
  'thread/approveGuardianDeniedAction': {
    threadId: 'thr_1',
    event: { id: 'r1', turn_id: 'turn_1', started_at_ms: 1, status: 'denied', action: { type: 'command', source: 'unified_exec', command: 'ls', cwd: '/tmp/w' } },
  },
  'thread/inject_items': { threadId: 'thr_1', items: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'said on the llm backend' }] }] },
};

describe('conformance with the installed codex app-server schema', () => {
  it('every client request we send exists in ClientRequest.json', () => {
    const official = new Set(methodsOf(load('ClientRequest.json')));
    const missing = Object.keys(clientRequests).filter((m) => !official.has(m));
    expect(missing).toEqual([]);
  });

  it('every server request we handle exists in ServerRequest.json (experimental: currentTime/read), and we handle all of them', () => {
    const official = methodsOf(loadX('ServerRequest.json'));
    expect(Object.keys(serverRequestSchemas).filter((m) => !official.includes(m))).toEqual([]);
    expect(official.filter((m) => !(m in serverRequestSchemas))).toEqual([]);
  });

  it('every notification we validate exists in ServerNotification.json', () => {
    const official = new Set(methodsOf(load('ServerNotification.json')));
    expect(Object.keys(notificationSchemas).filter((m) => !official.has(m))).toEqual([]);
  });

  it('we validate every turn/*, item/* and thread/* notification the server defines', () => {
    const family = methodsOf(load('ServerNotification.json')).filter((m) => /^(turn|item|thread)\//.test(m));
    expect(family.filter((m) => !(m in notificationSchemas))).toEqual([]);
  });

  it('the notifications turned into room notices exist in ServerNotification.json', () => {
    const official = new Set(methodsOf(load('ServerNotification.json')));
    const handled = [...SERVER_NOTICE_METHODS, 'model/rerouted', 'thread/tokenUsage/updated', 'error'];
    expect(handled.filter((m) => !official.has(m))).toEqual([]);
  });

  it('the initialized notification we send is a ClientNotification', () => {
    const validate = ajv.compile(load('ClientNotification.json'));
    expect(validate(JSON.parse(encodeNotification('initialized')))).toBe(true);
  });

  it.each(Object.keys(samples) as ClientMethod[])('%s as we build it validates against the official schema', (method) => {
    const params = samples[method];
    expect(clientRequests[method].params.safeParse(params).success, 'our own zod schema accepts the sample').toBe(true);
    const frame = JSON.parse(encodeRequest(1, method, params));
    const ok = clientRequest(frame);
    expect(ok, JSON.stringify(clientRequest.errors?.slice(0, 3))).toBe(true);
  });

  // currentTime/read has nothing to deny: the router answers it with the clock (below).
  it.each(Object.keys(serverAnswerSchemas).filter((m) => m !== 'currentTime/read'))('the fail-closed answer to %s validates against its official response schema', (method) => {
    const responseFile: Record<string, string> = {
      'item/commandExecution/requestApproval': 'CommandExecutionRequestApprovalResponse.json',
      'item/fileChange/requestApproval': 'FileChangeRequestApprovalResponse.json',
      'item/permissions/requestApproval': 'PermissionsRequestApprovalResponse.json',
      'mcpServer/elicitation/request': 'McpServerElicitationRequestResponse.json',
      'item/tool/requestUserInput': 'ToolRequestUserInputResponse.json',
      'item/tool/call': 'DynamicToolCallResponse.json',
      applyPatchApproval: 'ApplyPatchApprovalResponse.json',
      execCommandApproval: 'ExecCommandApprovalResponse.json',
    };
    const validate = ajv.compile(load(responseFile[method]!));
    const answer = failClosedAnswer(method);
    expect('result' in answer).toBe(true);
    expect(validate((answer as { result: unknown }).result), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  // One schema per server request (src/protocol): it must accept what the real binary's schema
  // accepts, for every request kind, and the approval kinds must turn it into a prompt.
  const paramsFile: Record<string, string> = {
    'item/commandExecution/requestApproval': 'CommandExecutionRequestApprovalParams.json',
    'item/fileChange/requestApproval': 'FileChangeRequestApprovalParams.json',
    'item/permissions/requestApproval': 'PermissionsRequestApprovalParams.json',
    'mcpServer/elicitation/request': 'McpServerElicitationRequestParams.json',
    'item/tool/requestUserInput': 'ToolRequestUserInputParams.json',
    'item/tool/call': 'DynamicToolCallParams.json',
    applyPatchApproval: 'ApplyPatchApprovalParams.json',
    execCommandApproval: 'ExecCommandApprovalParams.json',
  };
  const kindSamples: Array<[string, string, Record<string, unknown>]> = [
    ...Object.entries(requestSamples).map(([m, f]): [string, string, Record<string, unknown>] => [m, m, f()]),
    ['mcpServer/elicitation/request (tool approval)', 'mcpServer/elicitation/request', toolApprovalParams()],
    ['mcpServer/elicitation/request (url)', 'mcpServer/elicitation/request', urlParams()],
    ['item/commandExecution/requestApproval (humanCommand)', 'item/commandExecution/requestApproval', commandParams({ kind: 'humanCommand', availableDecisions: null })],
    ['item/commandExecution/requestApproval (writeStdin)', 'item/commandExecution/requestApproval', commandParams({ kind: 'writeStdin' })],
    ['item/tool/requestUserInput (not blocking)', 'item/tool/requestUserInput', userInputParams({ isBlocking: false })],
  ];
  it.each(kindSamples)('%s: a sample valid for the official schema parses with ours and classifies', (_name, method, params) => {
    const validate = ajv.compile(load(paramsFile[method]!));
    expect(validate(params), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const ours = serverRequestSchemas[method as keyof typeof serverRequestSchemas].safeParse(params);
    expect(ours.success, ours.error?.message).toBe(true);
    expect(classifyServerRequest('apr_conf', serverRequest(method, params)).type).not.toBe('immediate');
  });
});

// The `/codex` commands: every review target the room can ask for, and the answers the
// commands read, as the official schema defines them.
describe('conformance of the /codex commands', () => {
  const v2 = (name: string) => load(path.join('v2', name));

  it.each(['', '--base main', '--commit 0a1b2c3d', '--commit 0a1b2c3d Fix the parser', 'look for races in the pool'])(
    'review target of "/codex review %s" validates as review/start params',
    (args) => {
      const frame = JSON.parse(encodeRequest(1, 'review/start', { threadId: 'thr_1', target: parseReviewArgs(args), delivery: 'inline' }));
      expect(clientRequest(frame), JSON.stringify(clientRequest.errors?.slice(0, 3))).toBe(true);
    },
  );

  // Fields our result schemas require must be required by the official response too.
  it.each([
    ['review/start', 'ReviewStartResponse.json'],
    ['thread/read', 'ThreadReadResponse.json'],
    ['thread/list', 'ThreadListResponse.json'],
    ['mcpServerStatus/list', 'ListMcpServerStatusResponse.json'],
  ] as const)('%s: what we require of the answer, the official schema requires', (method, file) => {
    const shape = (clientRequests[method].result as unknown as { shape: Record<string, { isOptional(): boolean }> }).shape;
    const ours = Object.entries(shape).filter(([, s]) => !s.isOptional()).map(([k]) => k);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((k) => !((v2(file).required as string[] | undefined) ?? []).includes(k))).toEqual([]);
  });

  // Answers valid for the official schema are formatted, not reported unreadable.
  const answers: Array<[string, string, unknown, (v: unknown) => string, RegExp]> = [
    ['account (none)', 'GetAccountResponse.json', { account: null, requiresOpenaiAuth: true }, accountText, /^not logged in/],
    ['account (ChatGPT)', 'GetAccountResponse.json', { account: { type: 'chatgpt', email: 'ann@example.com', planType: 'plus' }, requiresOpenaiAuth: true }, accountText, /^ChatGPT ann@example\.com \(plus plan\)$/],
    [
      'rate limits',
      'GetAccountRateLimitsResponse.json',
      { rateLimits: { limitId: 'codex', primary: { usedPercent: 42, windowDurationMins: 300, resetsAt: 1_800_000_000 }, secondary: null } },
      rateLimitsText,
      /^codex: window of 5 h 42% used, resets 2027-01-15 08:00 UTC$/,
    ],
    [
      'MCP servers',
      'ListMcpServerStatusResponse.json',
      { data: [{ name: 'test', authStatus: 'unsupported', runtimeStatus: 'connected', tools: { ask: { name: 'ask', inputSchema: { type: 'object' } } }, resources: [], resourceTemplates: [] }], nextCursor: null },
      mcpText,
      /^1\n {2}test \(connected, 1 tool\)$/,
    ],
    [
      'skills',
      'SkillsListResponse.json',
      { data: [{ cwd: '/w', errors: [], skills: [{ name: 'imagegen', description: 'Images', enabled: true, path: '/s/SKILL.md', scope: 'system' }] }] },
      (v) => skillsText(v, true),
      /^1 \(1 enabled\)\n {2}imagegen \[system\] — Images$/,
    ],
  ];
  it.each(answers)('%s: an official answer is formatted as text', (_name, file, answer, format, expected) => {
    const validate = ajv.compile(v2(file));
    expect(validate(answer), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(format(answer)).toMatch(expected);
  });

  it('thread/fork, thread/revert, thread/turns/list: the answer fields /fork and /undo read are the official ones', () => {
    expect(v2('ThreadForkResponse.json').properties).toHaveProperty('thread');
    expect(v2('ThreadForkResponse.json').properties).toHaveProperty('model');
    expect(v2('ThreadForkResponse.json').required).toEqual(expect.arrayContaining(['thread', 'model']));
    const turns = v2('ThreadTurnsListResponse.json');
    expect(turns.required).toEqual(expect.arrayContaining(['data']));
    expect((turns.definitions as Record<string, { required: string[] }>).Turn!.required).toEqual(expect.arrayContaining(['id', 'status']));
    expect(v2('ThreadRevertParams.json').required).toEqual(['beforeTurnId', 'threadId']);
    // Our lenient result schemas take the official answers.
    const fork = clientRequests['thread/fork'].result.safeParse({ thread: { id: 't2', preview: '', turns: [] }, model: 'gpt-5.5' });
    expect(fork.success).toBe(true);
    expect(clientRequests['thread/turns/list'].result.safeParse({ data: [{ id: 'turn_1', status: 'completed', items: [] }], nextCursor: null }).success).toBe(true);
  });

  it('thread/list: the fields a listing shows are the official ones', () => {
    const thread = (v2('ThreadListResponse.json').definitions as Record<string, { properties: Record<string, unknown> }>).Thread!;
    for (const k of ['id', 'name', 'preview', 'updatedAt', 'createdAt']) expect(thread.properties).toHaveProperty(k);
    expect(v2('ThreadListResponse.json').properties).toHaveProperty('nextCursor');
    expect(ThreadPageSchema.safeParse({ data: [{ id: 't1', name: null, preview: 'hi', updatedAt: 1 }], nextCursor: null }).success).toBe(true);
  });
});

// Issue 15 #10, #11: per-turn options, the replay check, image items and the experimental
// server request, as the official schema (and, where gated, the experimental one) defines them.
describe('conformance of per-turn options', () => {
  const v2 = (name: string) => load(path.join('v2', name));
  const defs = () => load('codex_app_server_protocol.v2.schemas.json').definitions as Record<string, { properties?: Record<string, unknown>; oneOf?: unknown[] }>;

  it('turn/start takes effort and clientUserMessageId; turn/steer takes clientUserMessageId; thread/turns/list takes itemsView', () => {
    expect(Object.keys(v2('TurnStartParams.json').properties as object)).toEqual(expect.arrayContaining(['effort', 'clientUserMessageId']));
    expect(Object.keys(v2('TurnSteerParams.json').properties as object)).toContain('clientUserMessageId');
    expect(Object.keys(v2('ThreadTurnsListParams.json').properties as object)).toContain('itemsView');
  });

  it('the items we read: userMessage.clientId (the replay check), imageView.path, imageGeneration.savedPath/revisedPrompt/failure', () => {
    const variants = (defs().ThreadItem!.oneOf as Array<{ properties: Record<string, { enum?: string[] }> }>).map((v) => v.properties);
    const item = (type: string) => Object.keys(variants.find((p) => p.type?.enum?.[0] === type) ?? {});
    expect(item('userMessage')).toContain('clientId');
    expect(item('imageView')).toContain('path');
    expect(item('imageGeneration')).toEqual(expect.arrayContaining(['savedPath', 'revisedPrompt', 'failure', 'status']));
  });

  it('command approval kinds and isBlocking are the official ones', () => {
    const cmd = load('CommandExecutionRequestApprovalParams.json') as { definitions: Record<string, { oneOf: Array<{ enum: string[] }> }> };
    expect(cmd.definitions.CommandExecutionApprovalKind!.oneOf.flatMap((o) => o.enum)).toEqual(expect.arrayContaining(['command', 'writeStdin', 'humanCommand']));
    expect(load('ToolRequestUserInputParams.json').required).toContain('isBlocking');
  });

  it('currentTime/read (experimental): our params schema takes the official params; the router answers with an official response', async () => {
    const params = { threadId: 'thr_1' };
    expect(ajv.compile(loadX('CurrentTimeReadParams.json'))(params)).toBe(true);
    expect(serverRequestSchemas['currentTime/read'].safeParse(params).success).toBe(true);
    const { router } = makeRouter({ now: () => 1_800_000_000_500 });
    try {
      const answer = (await router.handler({ id: 1, method: 'currentTime/read', params, threadId: 'thr_1', signal: new AbortController().signal })) as { result: unknown };
      const validate = ajv.compile(loadX('CurrentTimeReadResponse.json'));
      expect(validate(answer.result), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
      expect(answer.result).toEqual({ currentTimeAt: 1_800_000_000 });
    } finally {
      router.dispose();
    }
  });

  it('thread goals exist (thread/goal/set with tokenBudget) but need an objective: /budget counts tokens itself', () => {
    expect(methodsOf(load('ClientRequest.json'))).toEqual(expect.arrayContaining(['thread/goal/set', 'thread/goal/get']));
    expect(Object.keys(v2('ThreadGoalSetParams.json').properties as object)).toEqual(expect.arrayContaining(['tokenBudget', 'objective']));
  });
});
