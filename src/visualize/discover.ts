// Finds the machines: every `machines/*.machine.{ts,js}` file, every exported StateMachine.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';

export interface FoundMachine {
  /** Output name: the file's base (`connection`), or `base.machineId` when a file has several. */
  name: string;
  /** Path relative to the root, `/`-separated. */
  file: string;
  exportName: string;
  machine: AnyStateMachine;
  /** One line on what the machine does. */
  description: string | undefined;
}

// Compiled builds (dist/machines) have `.js`; `.d.ts` files are not machines.
const MACHINE_FILE = /^(.+)\.machine\.(ts|mts|js|mjs)$/;

/** Duck-typed, so a second copy of xstate (or a bundled one) is still recognised. */
export function isStateMachine(value: unknown): value is AnyStateMachine {
  const v = value as { id?: unknown; root?: { states?: unknown }; config?: unknown; getStateNodeById?: unknown } | null;
  return (
    !!v && typeof v === 'object' && typeof v.id === 'string' && typeof v.config === 'object' &&
    typeof v.getStateNodeById === 'function' && !!v.root && typeof v.root.states === 'object'
  );
}

/** The first sentence of the file's leading comment paragraph. */
export function leadingComment(source: string): string | undefined {
  const para: string[] = [];
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#!')) continue;
    const m = /^(?:\/\/+|\/\*+|\*+\/?)\s?(.*?)(?:\s*\*\/)?$/.exec(line);
    if (!m) break;
    const text = m[1]!.trim();
    if (!text) {
      if (para.length) break;
      continue;
    }
    para.push(text);
  }
  const joined = para.join(' ').replace(/\s+/g, ' ').trim();
  if (!joined) return undefined;
  return /^(.*?[.!?])(?:\s|$)/.exec(joined)?.[1] ?? joined;
}

/** All machines under `root/dir`, sorted by name; throws naming the file that fails to import. */
export async function discoverMachines(root: string, dir = 'machines'): Promise<FoundMachine[]> {
  const entries = (await readdir(join(root, dir))).filter((f) => MACHINE_FILE.test(f) && !f.endsWith('.d.ts')).sort();
  const bases = new Map<string, string>();
  for (const f of entries) {
    const base = MACHINE_FILE.exec(f)![1]!;
    // Prefer the TypeScript source when a compiled copy sits next to it.
    if (!bases.has(base) || f.endsWith('.ts')) bases.set(base, f);
  }
  const files: Array<{ base: string; file: string; comment: string | undefined; exports: Array<[string, AnyStateMachine]> }> = [];
  for (const [base, f] of [...bases].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const path = join(root, dir, f);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`cannot import ${dir}/${f}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const exports = Object.keys(mod)
      .sort()
      .filter((name) => isStateMachine(mod[name]))
      .map((name): [string, AnyStateMachine] => [name, mod[name] as AnyStateMachine]);
    files.push({ base, file: `${dir}/${f}`, comment: leadingComment(await readFile(path, 'utf8')), exports });
  }
  // A machine re-exported elsewhere belongs to the file named after its id, else the first.
  const home = new Map<AnyStateMachine, string>();
  for (const { base, exports } of files) {
    for (const [, m] of exports) if (!home.has(m) || base === m.id) home.set(m, base);
  }
  const found: FoundMachine[] = [];
  for (const { base, file, comment, exports } of files) {
    const own = exports.filter(([, m], i) => home.get(m) === base && exports.findIndex(([, o]) => o === m) === i);
    for (const [exportName, machine] of own) {
      const meta = machine.root.meta as { description?: unknown } | undefined;
      found.push({
        name: own.length === 1 ? base : `${base}.${machine.id}`,
        file,
        exportName,
        machine,
        description: machine.root.description ?? (typeof meta?.description === 'string' ? meta.description : undefined) ?? comment,
      });
    }
  }
  return found;
}
