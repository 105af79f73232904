// The app-server's own reason for dying, read from its stderr. Codex's `main` ends a fatal
// startup error with one `Error: <reason>` line followed by a backtrace; that line, not the
// exit code, is what a person needs to see (e.g. `CODEX_HOME points to "/x", but that path
// does not exist`). Untrusted text: colour codes and control characters are stripped and the
// length bounded.

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;
const MAX_REASON = 300;

/** The last `Error: …` line of a stderr tail, cleaned; undefined when there is none. */
export function appServerReason(stderrTail: string | undefined): string | undefined {
  if (!stderrTail) return undefined;
  const lines = stderrTail.replace(ANSI, '').split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^\s*Error:\s*(.+?)\s*$/.exec(lines[i]!);
    if (!m) continue;
    const text = m[1]!.replace(CONTROL, '');
    return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
  }
  return undefined;
}

/** Startup errors a restart cannot fix (the same command and environment fail the same way). */
const FATAL = [/^CODEX_HOME points to /];

export const isFatalStartupReason = (reason: string): boolean => FATAL.some((re) => re.test(reason));
