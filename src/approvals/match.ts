// Matchers for review policy rules: path globs, host patterns, shell command prefixes.
// Written here rather than node's `path.matchesGlob`, which is experimental in Node 20
// (it prints a warning on first use) and has no notion of hosts or shell words.
import path from 'node:path';

const cache = new Map<string, RegExp>();

/**
 * Glob → RegExp. `**` crosses `/`, `*` and `?` do not, `{a,b}` alternates, `[...]` is a
 * class. Matching is on whole strings.
 */
export function globToRegExp(glob: string): RegExp {
  const hit = cache.get(glob);
  if (hit) return hit;
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        const atSegmentStart = i === 0 || glob[i - 1] === '/';
        if (atSegmentStart && slashAfter) {
          re += '(?:.*/)?'; // `**/` = zero or more whole directories
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) {
      re += '|';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) {
        re += '\\[';
      } else {
        let cls = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls}]`;
        i = end;
      }
    } else {
      re += c.replace(/[.+^$()|\\/]/g, '\\$&');
    }
  }
  while (braces-- > 0) re += ')';
  const compiled = new RegExp(`^${re}$`);
  cache.set(glob, compiled);
  return compiled;
}

/**
 * Does `file` match `glob`? Both are normalised first, so `/ws/../etc/passwd` is judged as
 * `/etc/passwd` and cannot sneak past a `/ws/**` rule. Relative paths resolve against `cwd`.
 */
export function pathMatches(file: string, glob: string, cwd?: string): boolean {
  const abs = normalizePath(file, cwd);
  if (abs === undefined) return false;
  const g = path.posix.isAbsolute(glob) || glob.startsWith('**') || cwd === undefined ? glob : path.posix.join(cwd, glob);
  return globToRegExp(g).test(abs);
}

export function normalizePath(file: string, cwd?: string): string | undefined {
  if (path.posix.isAbsolute(file)) return path.posix.normalize(file);
  if (cwd === undefined) return undefined; // relative with no base: cannot be judged
  return path.posix.resolve(cwd, file);
}

/** `example.com` exact; `*.example.com` any subdomain (not the apex); `*` everything. */
export function hostMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p === '*') return true;
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return h === p;
}

/** Simple `*` / `?` wildcards, for names (MCP servers and tools). */
export function nameMatches(name: string, pattern: string): boolean {
  if (pattern === '*') return true;
  const re = new RegExp(`^${pattern.replace(/[.+^$()|\\/{}[\]]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

export interface ParsedCommand {
  /** Simple commands, split at control operators (`;`, `&&`, `|`, newlines, substitutions). */
  segments: string[][];
  /** True when the line has more than a simple command: operators, redirections, substitutions. */
  compound: boolean;
  /** Unbalanced quotes: a parse the policy must not trust for an allow. */
  broken: boolean;
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh']);

/**
 * Shell words of a command line, honouring quotes and backslashes. A `bash -lc 'script'`
 * wrapper (how Codex runs every command) is unwrapped, so rules see the script itself.
 */
export function parseCommand(command: string | string[]): ParsedCommand {
  if (Array.isArray(command)) {
    const unwrapped = unwrapShell(command);
    return unwrapped === undefined ? { segments: [command], compound: false, broken: false } : parseCommand(unwrapped);
  }
  const segments: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let compound = false;
  let broken = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endSegment = () => {
    endWord();
    if (words.length) segments.push(words);
    words = [];
  };
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end === -1) {
        broken = true;
        word += command.slice(i + 1);
        i = command.length;
      } else {
        word += command.slice(i + 1, end);
        i = end;
      }
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < command.length && command[j] !== '"'; j++) {
        if (command[j] === '\\' && j + 1 < command.length) {
          j++;
          word += command[j];
        } else {
          if (command[j] === '$' || command[j] === '`') compound = true; // expansion inside quotes
          word += command[j];
        }
      }
      if (j >= command.length) broken = true;
      i = j;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < command.length) word += command[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === ';' || c === '&' || c === '|' || c === '\n' || c === '(' || c === ')' || c === '`') {
      compound = true;
      endSegment();
    } else if (c === '<' || c === '>') {
      compound = true; // redirection: the command writes or reads more than its words say
      endWord();
    } else if (c === '$' && command[i + 1] === '(') {
      compound = true;
      endSegment();
      i++;
    } else {
      if (c === '$') compound = true;
      word += c;
      inWord = true;
    }
  }
  endSegment();
  if (segments.length === 1 && !compound) {
    const inner = unwrapShell(segments[0]!);
    if (inner !== undefined) return parseCommand(inner);
  }
  return { segments, compound, broken };
}

/**
 * Every simple command of a line, descending into `sh -c '...'` segments, for deny rules:
 * `ls; bash -c 'rm x'` still shows `rm x`. (A tripwire, not a sandbox: allow rules, which
 * accept only one simple command, are the boundary.)
 */
export function allSegments(command: string | string[], depth = 0): string[][] {
  const parsed = parseCommand(command);
  const out: string[][] = [];
  for (const seg of parsed.segments) {
    out.push(seg);
    const inner = depth < 4 ? unwrapShell(seg) : undefined;
    if (inner !== undefined) out.push(...allSegments(inner, depth + 1));
  }
  return out;
}

function unwrapShell(argv: string[]): string | undefined {
  if (argv.length !== 3) return undefined;
  const [shell, flag, script] = argv as [string, string, string];
  if (!SHELLS.has(path.posix.basename(shell))) return undefined;
  return /^-l?c$|^-cl$/.test(flag) ? script : undefined;
}

/**
 * Do the first words of `words` equal `prefix` word by word? With `programByBasename`
 * (deny rules) `/usr/bin/rm` counts as `rm`; allow rules keep it exact, or a binary that
 * merely shares a name (`/tmp/x/touch`) would be allowed.
 */
export function startsWithWords(words: string[], prefix: string[], programByBasename = false): boolean {
  if (prefix.length === 0 || prefix.length > words.length) return false;
  return prefix.every((p, i) => {
    const w = words[i]!;
    return w === p || (i === 0 && programByBasename && path.posix.basename(w) === p);
  });
}
