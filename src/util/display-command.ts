// The command a person should read: the script inside Codex's `bash -lc '...'` wrapper, or
// the argv joined with shell quoting. Shared by the approval prompts and the terminal client.
export function displayCommand(command: string | string[]): string {
  if (!Array.isArray(command)) {
    const m = /^(?:\/[\w/]*\/)?(?:ba|z|da|k)?sh\s+-l?c\s+'((?:[^']|'\\'')*)'\s*$/.exec(command);
    return m ? m[1]!.replaceAll(`'\\''`, "'") : command;
  }
  if (command.length === 3 && /(^|\/)(ba|z|da|k)?sh$/.test(command[0]!) && /^-l?c$/.test(command[1]!)) return command[2]!;
  return command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
