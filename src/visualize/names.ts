// Readable names for guards and actions, whatever form they were written in.

type Fn = ((...args: never[]) => unknown) & { [k: string]: unknown };

// An inline arrow in `{ guard: () => … }` is named after the property; say `inline` instead.
const PROPERTY_NAMES = new Set(['guard', 'entry', 'exit', 'actions']);
const fnName = (f: Fn): string => (f.name && !PROPERTY_NAMES.has(f.name) ? f.name : 'inline');
const wrap = (s: string): string => (/\s/.test(s) ? `(${s})` : s);

/** `name`, `{ type: 'name', params }`, `and([...])` → `a && b`, `not(x)` → `!x`, `stateIn(v)` → `in(v)`. */
export function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const g = guard as Fn;
    if ('stateValue' in g) return `in(${typeof g.stateValue === 'string' ? g.stateValue : JSON.stringify(g.stateValue)})`;
    if (Array.isArray(g.guards)) {
      const parts = g.guards.map((x: unknown) => wrap(guardName(x)));
      if (g.name === 'not') return `!${parts.join(', ')}`;
      return parts.join(g.name === 'or' ? ' || ' : ' && ');
    }
    return fnName(g);
  }
  if (guard && typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') {
    return (guard as { type: string }).type;
  }
  return 'inline';
}

/** `name`, `{ type }`, built-ins (`assign`, `sendTo(transport, CLOSE)`, `raise(X)`), or `inline`. */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'function') {
    const a = action as Fn;
    if (typeof a.type === 'string' && a.type.startsWith('xstate.')) {
      const kind = a.type.slice('xstate.'.length);
      const event = (a.event as { type?: unknown } | undefined)?.type;
      const args = [typeof a.to === 'string' ? a.to : undefined, typeof event === 'string' ? event : undefined].filter(Boolean);
      return args.length ? `${kind}(${args.join(', ')})` : kind;
    }
    return fnName(a);
  }
  if (action && typeof action === 'object' && typeof (action as { type?: unknown }).type === 'string') {
    return (action as { type: string }).type;
  }
  return 'inline';
}
