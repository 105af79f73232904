// Where `/codex threads more` goes on, per conversation: the filter of the listing and the
// app-server's cursor after it. Bounded: the oldest conversation's page is forgotten first.
export interface ThreadPage {
  filter: string;
  cursor: string;
}

export class ThreadPages {
  private readonly pages = new Map<string, ThreadPage>();

  constructor(private readonly max = 1000) {}

  get(session: string): ThreadPage | undefined {
    return this.pages.get(session);
  }

  /** The next page of `session`'s listing; undefined: the listing is complete. */
  set(session: string, page: ThreadPage | undefined): void {
    this.pages.delete(session);
    if (!page) return;
    this.pages.set(session, page);
    if (this.pages.size > this.max) this.pages.delete(this.pages.keys().next().value!);
  }
}
