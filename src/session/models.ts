// The model catalog behind `/model` and `/models`: `model/list` (paginated via nextCursor),
// cached per host; a fixed fallback when discovery is slow or fails. A name given to `/model`
// may be a ref (`openai/gpt-5.5`, legacy `codex/gpt-5.5`), a bare name or a configured alias.
import type { SessionConnection } from '../turn/runtime.js';
import { aliasOf, resolveModelRef, type ModelAliases } from './model-refs.js';

/** Used when `model/list` does not answer within the discovery timeout, or fails. */
export const FALLBACK_MODELS: readonly string[] = ['gpt-5.5', 'gpt-5.4-mini', 'gpt-5.2'];

export interface CatalogModel {
  id: string;
  model: string;
  displayName: string | undefined;
  hidden: boolean;
  isDefault: boolean;
}

export interface Catalog {
  models: CatalogModel[];
  source: 'model/list' | 'fallback' | 'static';
  fetchedAt: number;
  /** Why the fallback is in use. */
  note?: string;
}

export const catalogOf = (names: readonly string[], source: Catalog['source'], note?: string, fetchedAt = 0): Catalog => ({
  models: names.map((n) => ({ id: n, model: n, displayName: undefined, hidden: false, isDefault: false })),
  source,
  fetchedAt,
  ...(note ? { note } : {}),
});

/** Every page of `model/list` (hidden models included, so they validate). */
export async function discoverModels(conn: SessionConnection, signal: AbortSignal, now: () => number = Date.now, maxPages = 50): Promise<Catalog> {
  const models: CatalogModel[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const res = await conn.request('model/list', { includeHidden: true, ...(cursor ? { cursor } : {}) }, { signal });
    for (const m of res.data) {
      models.push({
        id: m.id,
        model: m.model,
        displayName: typeof m.displayName === 'string' ? m.displayName : undefined,
        hidden: m.hidden === true,
        isDefault: (m as { isDefault?: unknown }).isDefault === true,
      });
    }
    cursor = res.nextCursor ?? undefined;
    if (!cursor) break;
  }
  return { models, source: 'model/list', fetchedAt: now() };
}

/** The catalog entry `name` refers to (an alias, a ref or a bare name; by model or id, case-insensitive). */
export function findModel(catalog: Catalog, name: string, aliases: ModelAliases = {}): CatalogModel | undefined {
  const n = resolveModelRef(name, aliases).toLowerCase();
  return catalog.models.find((m) => m.model.toLowerCase() === n) ?? catalog.models.find((m) => m.id.toLowerCase() === n);
}

/** A model as listed: its name, then its alias and display name when it has them. */
const label = (m: CatalogModel, aliases: ModelAliases): string => {
  const alias = aliasOf(m.model, aliases);
  const shown = m.displayName && m.displayName !== m.model ? m.displayName : undefined;
  const extra = [alias ? `alias ${alias}` : '', shown ?? ''].filter(Boolean).join(', ');
  return `${m.model}${extra ? ` (${extra})` : ''}`;
};

/** The catalog as `/models` shows it (`/codex models` and `switchboard models` too). */
export function describeCatalog(catalog: Catalog, current: string | undefined, aliases: ModelAliases = {}): string {
  const visible = catalog.models.filter((m) => !m.hidden || m.model === current);
  const lines = visible.map((m) => {
    const marks = [m.model === current ? 'current' : '', m.isDefault ? 'default' : ''].filter(Boolean).join(', ');
    return `- ${label(m, aliases)}${marks ? ` [${marks}]` : ''}`;
  });
  const from = catalog.source === 'fallback' ? ` (fallback list${catalog.note ? `: ${catalog.note}` : ''})` : '';
  return `Models${from}:\n${lines.join('\n')}${current ? '' : '\n(current: the Codex default)'}`;
}

/** A tiny shared cache (one per host): plain data, read and written by the session actors. */
export interface ModelCache {
  value: Catalog | undefined;
}

/** How long a fallback catalog is reused before discovery is tried again. */
const FALLBACK_CACHE_MS = 30_000;

/** The session's catalog can answer `/model` and `/models` without asking Codex again. */
export function catalogFresh(c: Catalog | undefined, cacheMs: number, now: number): boolean {
  if (!c) return false;
  if (c.source === 'static') return true;
  const age = now - c.fetchedAt;
  if (c.source === 'fallback') return age < FALLBACK_CACHE_MS;
  return age < cacheMs;
}

export type CatalogRequest = { kind: 'model'; name: string } | { kind: 'models' };

/** The answers to the pending `/model` and `/models` requests, and the model they leave set. */
export function answerCatalogRequests(
  catalog: Catalog,
  model: string | undefined,
  requests: CatalogRequest[],
  turnRunning: boolean,
  aliases: ModelAliases = {},
): { model: string | undefined; changed: boolean; texts: Array<{ level: 'info' | 'warning'; text: string }> } {
  let changed = false;
  const texts: Array<{ level: 'info' | 'warning'; text: string }> = [];
  for (const r of requests) {
    if (r.kind === 'models') {
      texts.push({ level: 'info', text: describeCatalog(catalog, model, aliases) });
    } else if (r.name === '') {
      texts.push({ level: 'info', text: `Model: ${model ?? 'the Codex default'}. Use /model NAME to switch, /models to list.` });
    } else {
      const found = findModel(catalog, r.name, aliases);
      if (!found) {
        const names = catalog.models.filter((m) => !m.hidden).map((m) => label(m, aliases));
        texts.push({ level: 'warning', text: `Unknown model "${r.name}". Available: ${names.join(', ')}.` });
      } else {
        model = found.model;
        changed = true;
        const when = turnRunning ? 'from the next turn' : 'from the next message';
        texts.push({ level: 'info', text: `Model set to ${found.model}; it applies ${when}, in the same Codex thread.` });
      }
    }
  }
  return { model, changed, texts };
}

/** Why the fallback catalog is used: the discovery's error event, or its timeout. */
export function fallbackReason(event: object, discoveryMs: number): string {
  if ('error' in event) return `model/list failed: ${event.error instanceof Error ? event.error.message : String(event.error)}`;
  return `model/list did not answer within ${discoveryMs} ms`;
}
