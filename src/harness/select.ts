// Harness selection per agent: which backend runs a session's turns, and why. The result
// is one structured record (logged, and shown by /status).

export interface HarnessProbe {
  id: string;
  /** Can this harness serve now? (registered, version ok, could start) */
  available(): { ok: true } | { ok: false; reason: string };
  /** Does it claim this model in `auto` mode? */
  supports(model: string | undefined): { ok: boolean; reason: string };
}

export interface SelectionInput {
  runtime: string;
  fallback: string;
  model: string | undefined;
  harnesses: ReadonlyMap<string, HarnessProbe>;
  /** The harness that ran this session's first turn; kept until /new or /reset. */
  pinned?: string | undefined;
}

export interface Candidate {
  id: string;
  available: boolean;
  supports: boolean;
  reason: string;
}

export interface HarnessSelection {
  harness: string;
  reason: string;
  runtime: string;
  fallback: string;
  model: string | undefined;
  pinned: boolean;
  candidates: Candidate[];
}

export class HarnessSelectionError extends Error {
  constructor(
    message: string,
    readonly candidates: Candidate[],
  ) {
    super(message);
    this.name = 'HarnessSelectionError';
  }
}

const isLegacyCodexRef = (model: string | undefined): boolean => !!model && model.startsWith('codex/');

export function selectHarness(input: SelectionInput): HarnessSelection {
  const { runtime, fallback, model, harnesses } = input;
  const base = { runtime, fallback, model };
  const candidates: Candidate[] = [];
  const probe = (id: string): Candidate => {
    const h = harnesses.get(id);
    if (!h) return { id, available: false, supports: false, reason: `harness "${id}" is not registered` };
    const a = h.available();
    const s = h.supports(model);
    return { id, available: a.ok, supports: s.ok, reason: a.ok ? s.reason : a.reason };
  };

  if (input.pinned) {
    const c = probe(input.pinned);
    candidates.push(c);
    if (c.available) return { ...base, harness: c.id, reason: `pinned: this session's first turn ran on "${c.id}" (use /new or /reset to re-resolve)`, pinned: true, candidates };
    throw new HarnessSelectionError(`this session is pinned to harness "${c.id}", which cannot serve: ${c.reason}. Use /new or /reset to switch.`, candidates);
  }

  let chosen: Candidate | undefined;
  let reason = '';
  if (runtime === 'auto') {
    // Legacy codex/* refs select the codex harness; otherwise the first that claims the model.
    if (isLegacyCodexRef(model)) {
      const c = probe('codex');
      candidates.push(c);
      if (c.available) {
        chosen = c;
        reason = `auto: legacy model ref "${model}" selects codex`;
      }
    }
    if (!chosen) {
      for (const id of harnesses.keys()) {
        if (candidates.some((x) => x.id === id)) continue;
        const c = probe(id);
        candidates.push(c);
        if (c.available && c.supports) {
          chosen = c;
          reason = `auto: "${id}" supports ${model ? `model "${model}"` : 'the default model'} (${c.reason})`;
          break;
        }
      }
    }
  } else {
    const c = probe(runtime);
    candidates.push(c);
    if (c.available) {
      chosen = c;
      reason = `forced by config (runtime: ${runtime})`;
    }
  }

  if (!chosen && fallback !== 'none') {
    const c = probe(fallback);
    candidates.push(c);
    if (c.available) {
      chosen = c;
      reason = `fallback "${fallback}": ${candidates[0]?.reason ?? `no harness for runtime ${runtime}`}`;
    }
  }

  if (!chosen) {
    const why = candidates.map((c) => `${c.id}: ${c.reason}`).join('; ') || 'no harness is registered';
    throw new HarnessSelectionError(
      runtime === 'auto'
        ? `no harness can serve ${model ? `model "${model}"` : 'this agent'} (runtime auto, fallback ${fallback}): ${why}`
        : `runtime "${runtime}" is forced with fallback ${fallback}, but it cannot serve: ${why}`,
      candidates,
    );
  }
  return { ...base, harness: chosen.id, reason, pinned: false, candidates };
}
