// The link that opens the web room with a credential: the credential rides in the URL
// fragment (never sent to the server, never in its logs); the page moves it to
// sessionStorage and removes it from the address bar at once.

export class LinkBaseError extends Error {}

/** `http://host:port/#token=…` from the page's base URL (http or https; query and fragment dropped). */
export function pageLink(base: string, credential: string): string {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new LinkBaseError(`"${printable(base)}" is not a URL: write the room's page address, e.g. http://127.0.0.1:7300`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new LinkBaseError(`"${printable(base)}": the page address starts with http:// or https://`);
  if (u.username || u.password) throw new LinkBaseError(`"${printable(base)}": no user name or password in the page address`);
  u.search = '';
  u.hash = '';
  const href = u.href.endsWith('/') ? u.href : `${u.href}/`;
  return `${href}#token=${encodeURIComponent(credential)}`;
}

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
