// Brings existing DOM in line with freshly rendered (already sanitized) DOM by changing only
// what differs. A streaming message mostly grows at its end: its text node is extended with
// appendData, so the browser re-shapes and re-lays out the new words, not the whole message.

function sameAttributes(a: Element, b: Element): boolean {
  if (a.attributes.length !== b.attributes.length) return false;
  for (const attr of a.attributes) if (b.getAttribute(attr.name) !== attr.value) return false;
  return true;
}

function morphNode(cur: Node, next: Node): Node {
  if (cur.nodeType !== next.nodeType || cur.nodeName !== next.nodeName) {
    cur.parentNode?.replaceChild(next, cur);
    return next;
  }
  if (cur.nodeType === Node.TEXT_NODE || cur.nodeType === Node.COMMENT_NODE) {
    const was = (cur as CharacterData).data;
    const now = (next as CharacterData).data;
    if (was !== now) {
      if (now.startsWith(was)) (cur as CharacterData).appendData(now.slice(was.length));
      else (cur as CharacterData).data = now;
    }
    return cur;
  }
  if (cur.nodeType === Node.ELEMENT_NODE && !sameAttributes(cur as Element, next as Element)) {
    cur.parentNode?.replaceChild(next, cur);
    return next;
  }
  morphChildren(cur, [...next.childNodes]);
  return cur;
}

/** Makes `parent`'s children from index `from` on match `next` (nodes of another tree, moved in when needed). */
export function morphChildren(parent: Node, next: Node[], from = 0): void {
  let i = 0;
  for (; i < next.length; i++) {
    const cur = parent.childNodes[from + i];
    if (cur) morphNode(cur, next[i]!);
    else parent.appendChild(next[i]!);
  }
  while (parent.childNodes.length > from + i) parent.lastChild!.remove();
}
