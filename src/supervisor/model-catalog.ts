// The model list a room page shows in its picker: the agent's configured models, else Codex's
// `model/list` catalog (cached), else the fallback list when discovery is off, slow or fails.
// The session actors keep their own cache for `/model`; this one answers the room's `models` frame.
import type { Logger } from 'pino';
import type { ModelList } from '../room/protocol.js';
import { catalogFresh, discoverModels, FALLBACK_MODELS, type Catalog } from '../session/models.js';
import type { SessionConnection } from '../turn/runtime.js';
import { codexModelName } from './harness.js';

export interface ModelCatalogOptions {
  conn: Pick<SessionConnection, 'request'>;
  /** Its configured `models` are a fixed list (no discovery); its `model` is marked as the default. */
  agent: { model?: string | undefined; models?: string[] | undefined };
  discovery: { enabled: boolean; timeoutMs: number };
  /** How long a discovered catalog is reused (default 10 min, as the sessions do). */
  cacheMs?: number;
  now?: () => number;
  log: Logger;
}

// Names come from the app-server: shown in a page, so no control characters and bounded.
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, 200);
const MAX_MODELS = 200;

export class ModelCatalog {
  private cached: Catalog | undefined;
  private inflight: Promise<Catalog> | undefined;
  private readonly now: () => number;

  private readonly staticModels: string[] | undefined;
  private readonly defaultModel: string | undefined;

  constructor(private readonly o: ModelCatalogOptions) {
    this.now = o.now ?? Date.now;
    this.staticModels = o.agent.models?.map((m) => codexModelName(m)!);
    this.defaultModel = codexModelName(o.agent.model);
  }

  async list(): Promise<ModelList> {
    return this.toList(await this.catalog());
  }

  private catalog(): Promise<Catalog> {
    if (this.staticModels?.length) return Promise.resolve(this.listed(this.staticModels, 'static'));
    if (catalogFresh(this.cached, this.o.cacheMs ?? 10 * 60_000, this.now())) return Promise.resolve(this.cached!);
    // One discovery at a time, however many pages ask at once.
    this.inflight ??= this.discover().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async discover(): Promise<Catalog> {
    if (!this.o.discovery.enabled) return (this.cached = this.listed(FALLBACK_MODELS, 'fallback', 'model discovery is disabled'));
    const ctl = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // Raced as well as aborted: the answer is bounded even if a request ignores its signal.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`model/list did not answer within ${this.o.discovery.timeoutMs} ms`);
        ctl.abort(err);
        reject(err);
      }, this.o.discovery.timeoutMs);
      timer.unref?.();
    });
    try {
      return (this.cached = await Promise.race([discoverModels(this.o.conn as SessionConnection, ctl.signal, this.now), timeout]));
    } catch (err) {
      const why = ctl.signal.aborted ? String((ctl.signal.reason as Error).message) : `model/list failed: ${(err as Error).message}`;
      this.o.log.warn({ why }, 'model discovery for the room: using the fallback list');
      return (this.cached = this.listed(FALLBACK_MODELS, 'fallback', why));
    } finally {
      clearTimeout(timer);
    }
  }

  private listed(names: readonly string[], source: Catalog['source'], note?: string): Catalog {
    // A configured list's first entry is the agent's default; of the fallback list, only the configured model is.
    const def = this.defaultModel ?? (source === 'static' ? names[0] : undefined);
    return {
      models: names.map((n) => ({ id: n, model: n, displayName: undefined, hidden: false, isDefault: n === def })),
      source,
      fetchedAt: this.now(),
      ...(note ? { note } : {}),
    };
  }

  private toList(c: Catalog): ModelList {
    return {
      models: c.models
        .filter((m) => !m.hidden && clean(m.model))
        .slice(0, MAX_MODELS)
        .map((m) => ({ model: clean(m.model), ...(m.displayName && clean(m.displayName) ? { displayName: clean(m.displayName) } : {}), isDefault: m.isDefault })),
      source: c.source,
      ...(c.note ? { note: clean(c.note) } : {}),
    };
  }
}
