// One agent's model catalog, the one every command reads: `/model` and `/models` (the sessions
// ask it), `/codex models`, the room page's picker and `switchboard models`. It is the agent's
// configured list (Codex refs only, with their aliases), else Codex's `model/list` (cached),
// else the fallback list when discovery is off, slow or fails.
import type { Logger } from 'pino';
import type { ModelList } from '../room/protocol.js';
import { catalogFresh, describeCatalog, discoverModels, FALLBACK_MODELS, findModel, type Catalog, type CatalogModel } from '../session/models.js';
import { aliasOf, bareModelName, isCodexModelRef, resolveModelRef, type ModelAliases } from '../session/model-refs.js';
import type { SessionConnection } from '../turn/runtime.js';

/** What a session asks for its catalog (the manager's own cache is used without one). */
export interface ModelSource {
  catalog(opts?: { refresh?: boolean }): Promise<Catalog>;
}

export interface ModelCatalogOptions {
  conn: Pick<SessionConnection, 'request'>;
  /** Its configured `models` are a fixed list (no discovery); its `model` is marked as the default. */
  agent: { model?: string | undefined; models?: string[] | undefined; modelAliases?: ModelAliases | undefined };
  discovery: { enabled: boolean; timeoutMs: number };
  /** How long a discovered catalog is reused (default 10 min, as the sessions do). */
  cacheMs?: number;
  now?: () => number;
  log: Logger;
}

// Names come from the app-server: shown in a page, so no control characters and bounded.
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, 200);
const MAX_MODELS = 200;

export class ModelCatalog implements ModelSource {
  private cached: Catalog | undefined;
  private inflight: Promise<Catalog> | undefined;
  private readonly now: () => number;
  private readonly staticModels: string[] | undefined;
  private readonly defaultModel: string | undefined;
  readonly aliases: ModelAliases;

  constructor(private readonly o: ModelCatalogOptions) {
    this.now = o.now ?? Date.now;
    // Refs of other providers (`anthropic/…`) are not Codex's to serve.
    this.staticModels = o.agent.models?.filter(isCodexModelRef).map(bareModelName);
    this.aliases = o.agent.modelAliases ?? {};
    this.defaultModel = o.agent.model ? resolveModelRef(o.agent.model, this.aliases) : undefined;
  }

  /** The catalog; `refresh` asks Codex again (when discovery is on and the list is not fixed). */
  catalog(opts: { refresh?: boolean } = {}): Promise<Catalog> {
    if (this.staticModels?.length) return Promise.resolve(this.listed(this.staticModels, 'static'));
    if (!opts.refresh && catalogFresh(this.cached, this.o.cacheMs ?? 10 * 60_000, this.now())) return Promise.resolve(this.cached!);
    // One discovery at a time, however many sessions and pages ask at once.
    this.inflight ??= this.discover().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** The entry a name, ref or alias a person typed refers to. */
  async find(name: string): Promise<CatalogModel | undefined> {
    return findModel(await this.catalog(), name, this.aliases);
  }

  /** The catalog as `/models` words it, `current` marked. */
  async describe(current: string | undefined, opts: { refresh?: boolean } = {}): Promise<string> {
    const c = await this.catalog(opts);
    const text = describeCatalog(c, current, this.aliases);
    return c.source === 'static' ? `${text}\n(this agent's configured list)` : text;
  }

  /** The room page's picker (and `switchboard models --json`). */
  async list(opts: { refresh?: boolean } = {}): Promise<ModelList> {
    return this.toList(await this.catalog(opts));
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
      const found = await Promise.race([discoverModels(this.o.conn as SessionConnection, ctl.signal, this.now), timeout]);
      return (this.cached = this.markDefault(found));
    } catch (err) {
      const why = ctl.signal.aborted ? String((ctl.signal.reason as Error).message) : `model/list failed: ${(err as Error).message}`;
      this.o.log.warn({ why }, 'model discovery: using the fallback list');
      return (this.cached = this.listed(FALLBACK_MODELS, 'fallback', why));
    } finally {
      clearTimeout(timer);
    }
  }

  /** The agent's configured model is its default, whatever Codex's default is. */
  private markDefault(c: Catalog): Catalog {
    const def = this.defaultModel?.toLowerCase();
    if (!def || !c.models.some((m) => m.model.toLowerCase() === def)) return c;
    return { ...c, models: c.models.map((m) => ({ ...m, isDefault: m.model.toLowerCase() === def })) };
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
        .map((m) => {
          const alias = aliasOf(m.model, this.aliases);
          return {
            model: clean(m.model),
            ...(m.displayName && clean(m.displayName) ? { displayName: clean(m.displayName) } : {}),
            ...(alias ? { alias } : {}),
            isDefault: m.isDefault,
          };
        }),
      source: c.source,
      ...(c.note ? { note: clean(c.note) } : {}),
    };
  }
}
