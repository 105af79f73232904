// The model catalog behind `/model` and `/models`: `model/list` (paginated via nextCursor),
// cached per host; a fixed fallback when discovery is slow or fails.
import type { SessionConnection } from '../turn/runtime.js';

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

export const catalogOf = (names: readonly string[], source: Catalog['source'], note?: string): Catalog => ({
  models: names.map((n) => ({ id: n, model: n, displayName: undefined, hidden: false, isDefault: false })),
  source,
  fetchedAt: Date.now(),
  ...(note ? { note } : {}),
});

/** Every page of `model/list` (hidden models included, so they validate). */
export async function discoverModels(conn: SessionConnection, signal: AbortSignal, maxPages = 50): Promise<Catalog> {
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
  return { models, source: 'model/list', fetchedAt: Date.now() };
}

/** The catalog entry `name` refers to (by model or id, case-insensitive). */
export function findModel(catalog: Catalog, name: string): CatalogModel | undefined {
  const n = name.trim().toLowerCase();
  return catalog.models.find((m) => m.model.toLowerCase() === n) ?? catalog.models.find((m) => m.id.toLowerCase() === n);
}

export function describeCatalog(catalog: Catalog, current: string | undefined): string {
  const visible = catalog.models.filter((m) => !m.hidden || m.model === current);
  const lines = visible.map((m) => {
    const marks = [m.model === current ? 'current' : '', m.isDefault ? 'default' : ''].filter(Boolean).join(', ');
    return `- ${m.model}${m.displayName && m.displayName !== m.model ? ` (${m.displayName})` : ''}${marks ? ` [${marks}]` : ''}`;
  });
  const from = catalog.source === 'fallback' ? ` (fallback list${catalog.note ? `: ${catalog.note}` : ''})` : '';
  return `Models${from}:\n${lines.join('\n')}${current ? '' : '\n(current: the Codex default)'}`;
}

/** A tiny shared cache (one per host): plain data, read and written by the session actors. */
export interface ModelCache {
  value: Catalog | undefined;
}
