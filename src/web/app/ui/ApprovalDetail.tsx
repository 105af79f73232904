// What an approval asks, per kind: the command and its directory, the file changes as
// diffs, the permissions, the MCP tool and its arguments, the URL to open, the tool call.
import type { ComponentChildren } from 'preact';
import { arr, jsonText, line, obj, text, type Json } from '../clean.js';
import { unifiedForChange } from '../render/diff.js';
import { DiffView } from './DiffView.js';

function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="kv">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function CommandDetail({ d }: { d: Json }) {
  const argv = arr(d.argv).filter((s): s is string => typeof s === 'string');
  const command = line(d.command, 5000) ?? argv.join(' ');
  const network = obj(d.network);
  const amendment = arr(d.execpolicyAmendment).filter((s): s is string => typeof s === 'string');
  const hosts = arr(d.networkAmendments).map(obj).filter((a): a is Json => a !== undefined);
  return (
    <>
      {command ? (
        <pre class="cmd">
          <span class="prompt" aria-hidden="true">$ </span>
          {command}
        </pre>
      ) : null}
      <dl class="kvs">
        {line(d.cwd, 1000) ? <Row label="Directory">{line(d.cwd, 1000)}</Row> : null}
        {network ? <Row label="Network">{`${line(network.host, 300) ?? '?'}${line(network.protocol, 20) ? ` (${line(network.protocol, 20)})` : ''}`}</Row> : null}
        {amendment.length ? <Row label="Always allow">{amendment.map((s) => line(s, 500)).join(' ')}</Row> : null}
        {hosts.length ? <Row label="Network rules">{hosts.map((h) => `${line(h.action, 20)} ${line(h.host, 300)}`).join(', ')}</Row> : null}
      </dl>
    </>
  );
}

function ChangesDetail({ changes }: { changes: Array<{ path: string; kind: string | undefined; diff: string | undefined }> }) {
  if (!changes.length) return <p class="meta">The changes are not known to this page.</p>;
  return (
    <>
      {changes.slice(0, 100).map((c, i) => (
        <div class="change" key={`${c.path}:${i}`}>
          <p class="meta">
            <span class="path">{c.path}</span> {c.kind ? <span class="badge">{c.kind}</span> : null}
          </p>
          {c.diff ? <DiffView diff={unifiedForChange(c.path, c.kind, c.diff)} label={`Changes to ${c.path}`} /> : null}
        </div>
      ))}
    </>
  );
}

function fileChanges(d: Json): Array<{ path: string; kind: string | undefined; diff: string | undefined }> {
  const list = arr(d.changes).map(obj).filter((c): c is Json => c !== undefined);
  return list.map((c) => ({ path: line(c.path, 1000) ?? '?', kind: line(c.kind, 20) ?? line(obj(c.kind)?.type, 20), diff: text(c.diff, 400_000) }));
}

/** Legacy applyPatchApproval: path → {add: {content}} | {update: {unified_diff}} | {delete: …}. */
function legacyChanges(d: Json): Array<{ path: string; kind: string | undefined; diff: string | undefined }> {
  return Object.entries(obj(d.fileChanges) ?? {}).map(([path, raw]) => {
    const c = obj(raw) ?? {};
    const kind = line(c.type, 20) ?? Object.keys(c)[0];
    const inner = obj(c[kind ?? '']) ?? c;
    return { path: line(path, 1000) ?? '?', kind, diff: text(inner.unified_diff, 400_000) ?? text(inner.content, 400_000) };
  });
}

function PermissionsDetail({ d }: { d: Json }) {
  const p = obj(d.permissions) ?? {};
  const fs = obj(p.fileSystem);
  const read = arr(fs?.read).filter((s): s is string => typeof s === 'string');
  const write = arr(fs?.write).filter((s): s is string => typeof s === 'string');
  const entries = arr(fs?.entries).length;
  return (
    <dl class="kvs">
      {obj(p.network)?.enabled === true ? <Row label="Network">access to the network</Row> : null}
      {write.length ? <Row label="Write">{write.map((s) => line(s, 1000)).join(', ')}</Row> : null}
      {read.length ? <Row label="Read">{read.map((s) => line(s, 1000)).join(', ')}</Row> : null}
      {entries ? <Row label="Filesystem">{`${entries} entr${entries === 1 ? 'y' : 'ies'}`}</Row> : null}
      {line(d.cwd, 1000) ? <Row label="Directory">{line(d.cwd, 1000)}</Row> : null}
      {line(d.note, 500) ? <Row label="Note">{line(d.note, 500)}</Row> : null}
    </dl>
  );
}

function McpToolDetail({ d }: { d: Json }) {
  const display = text(d.argumentsDisplay, 20_000);
  return (
    <>
      <dl class="kvs">
        <Row label="Server">{line(d.server, 200) ?? '?'}</Row>
        <Row label="Tool">{line(d.toolTitle, 200) ?? line(d.tool, 200) ?? '?'}</Row>
        {text(d.description, 2000) ? <Row label="About">{text(d.description, 2000)}</Row> : null}
      </dl>
      {display ? <pre class="json">{display}</pre> : d.arguments !== undefined ? <pre class="json">{jsonText(d.arguments)}</pre> : null}
    </>
  );
}

function UrlDetail({ d }: { d: Json }) {
  const url = line(d.url, 2000);
  let safe: string | undefined;
  try {
    const u = url ? new URL(url) : undefined;
    if (u && (u.protocol === 'https:' || u.protocol === 'http:')) safe = u.href;
  } catch {
    safe = undefined;
  }
  return (
    <dl class="kvs">
      <Row label="Server">{line(d.server, 200) ?? '?'}</Row>
      <Row label="Open">
        {safe ? (
          <a href={safe} target="_blank" rel="noopener noreferrer">
            {url}
          </a>
        ) : (
          <span>{url ?? '?'}</span>
        )}
      </Row>
    </dl>
  );
}

function DynamicToolDetail({ d }: { d: Json }) {
  const ns = line(d.namespace, 200);
  return (
    <>
      <dl class="kvs">
        <Row label="Tool">{`${ns ? `${ns}/` : ''}${line(d.tool, 200) ?? '?'}`}</Row>
      </dl>
      {d.arguments !== undefined ? <pre class="json">{jsonText(d.arguments)}</pre> : null}
    </>
  );
}

/** The kind-specific part of an approval card (forms are rendered by the card itself). */
export function ApprovalDetail({ kind, detail, title }: { kind: string; detail: Json; title: string }) {
  const reason = text(detail.reason, 5000);
  const message = text(detail.message, 5000);
  const body = (() => {
    switch (kind) {
      case 'command':
      case 'legacyCommand':
        return <CommandDetail d={detail} />;
      case 'fileChange':
        return <ChangesDetail changes={fileChanges(detail)} />;
      case 'legacyPatch':
        return <ChangesDetail changes={legacyChanges(detail)} />;
      case 'permissions':
        return <PermissionsDetail d={detail} />;
      case 'mcpToolApproval':
        return <McpToolDetail d={detail} />;
      case 'mcpUrl':
        return <UrlDetail d={detail} />;
      case 'dynamicTool':
        return <DynamicToolDetail d={detail} />;
      case 'mcpForm':
        return line(detail.server, 200) ? <p class="meta">From {line(detail.server, 200)}</p> : null;
      case 'userInput':
        return null;
      default:
        return <pre class="json">{jsonText(detail)}</pre>;
    }
  })();
  return (
    <div class="approval-detail">
      {/* The card's title is often the message itself (an MCP form's): not said twice. */}
      {message && kind !== 'mcpToolApproval' && message.trim() !== title.trim() ? <p class="msg-text">{message}</p> : null}
      {body}
      {reason ? <p class="reason">Why: {reason}</p> : null}
      {kind === 'fileChange' && line(detail.grantRoot, 1000) ? <p class="meta">Also asks to write under {line(detail.grantRoot, 1000)}</p> : null}
    </div>
  );
}
