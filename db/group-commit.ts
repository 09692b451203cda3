/**
 * Group commit: calls of one kind from many callers, run together. A call joins the next group,
 * sent as soon as the event loop has taken in what arrived together (or after `delayMs`, sooner
 * once the group is full), so an idle process adds no wait; while `maxInFlight` groups are running
 * the next one fills up, so a busy process pays one round trip and one WAL flush for many calls.
 * Groups are formed in arrival order. `run` answers each call of its group (in the group's order),
 * or throws, and then every call of the group fails with that error.
 *
 * Hand-written rather than taken from npm: the well-kept batching libraries do not fit. DataLoader
 * batches per tick with a size limit, but it is built around a per-key cache and sends each batch
 * when it is scheduled, with no limit on batches in flight; the next group filling while the
 * current ones commit (what makes groups large under load) is the whole point here. The window
 * batchers (@yornaath/batshit and the like) deduplicate by key and have no in-flight limit either.
 */

export type Outcome<T> = { ok: T } | { err: unknown };

export interface GroupCommitOptions<Req, Res> {
  /** Most calls in one group. */
  maxGroup: number;
  /** Groups running at once; calls arriving meanwhile wait for a free place and join the next group. */
  maxInFlight: number;
  /**
   * While a group is running, a group smaller than this waits for it rather than running alongside:
   * a second small group would only queue behind the first on the same rows. Default 1 (never waits).
   */
  minGroupAlongside?: number;
  /** Gather calls this long before sending a group (a full group goes at once). Default 0: the next turn of the event loop. */
  delayMs?: number;
  run(reqs: Req[]): Promise<Array<Outcome<Res>>>;
}

interface Waiting<Req, Res> {
  req: Req;
  resolve(r: Res): void;
  reject(err: unknown): void;
}

export class GroupCommit<Req, Res> {
  private queue: Array<Waiting<Req, Res>> = [];
  private inFlight = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: GroupCommitOptions<Req, Res>) {}

  call(req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      if (this.timer !== null && this.queue.length >= this.options.maxGroup) {
        clearTimeout(this.timer);
        this.timer = null;
        this.scheduled = false;
      }
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      this.timer = null;
      this.flush();
    };
    const delayMs = this.options.delayMs ?? 0;
    if (delayMs > 0 && this.queue.length < this.options.maxGroup) this.timer = setTimeout(go, delayMs);
    else setImmediate(go);
  }

  private flush(): void {
    const minAlongside = this.options.minGroupAlongside ?? 1;
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      if (this.inFlight > 0 && this.queue.length < minAlongside) break; // planned again when the running group ends
      const group = this.queue.splice(0, this.options.maxGroup);
      this.inFlight++;
      void this.runGroup(group).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async runGroup(group: Array<Waiting<Req, Res>>): Promise<void> {
    let results: Array<Outcome<Res>>;
    try {
      results = await this.options.run(group.map((w) => w.req));
    } catch (err) {
      for (const w of group) w.reject(err);
      return;
    }
    group.forEach((w, i) => {
      const r = results[i];
      if (r === undefined) w.reject(new Error(`group commit answered ${results.length} of ${group.length} calls`));
      else if ('ok' in r) w.resolve(r.ok);
      else w.reject(r.err);
    });
  }
}

/** `f`'s answer or error as an Outcome. */
export async function settle<T>(f: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await f() };
  } catch (err) {
    return { err };
  }
}
