/**
 * Group commit for event deliveries. Dapr delivers the orders topic one event per request, many
 * requests at a time (the pub/sub component's `concurrency` workers); applying each in its own
 * transaction under its location-day's lock makes a busy location's events wait for each other.
 * Here the deliveries that arrive while a batch is being applied wait together and go as the
 * next batch: one transaction for all of them (read-model.ts), each delivery answered only after
 * the batch that holds it committed — so an instance that dies mid-batch has acknowledged
 * nothing of it and Dapr redelivers all of it, and the event-id claims committed with the effects
 * make a redelivery of anything already applied change nothing. At a trickle a batch is a
 * single event and goes at once (no timer: latency is never traded for size).
 *
 * Hand-written: the rule (one batch in flight, the next forms behind it, capped) is a dozen lines,
 * smaller than adapting a generic batching library to per-entry statuses.
 */
export interface Batchable {
  entryId: string;
}

export type ApplyBatch<E extends Batchable, S> = (events: E[]) => Promise<Map<string, S>>;

interface Waiting<E, S> {
  events: E[];
  resolve: (statuses: Map<string, S>) => void;
  reject: (err: unknown) => void;
}

export function groupCommit<E extends Batchable, S>(
  apply: ApplyBatch<E, S>,
  opts: { maxEvents: number },
): (events: E[]) => Promise<Map<string, S>> {
  let queue: Waiting<E, S>[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    while (queue.length > 0) {
      // Take whole deliveries up to maxEvents (at least one, however large).
      let size = 0;
      let take = 0;
      while (
        take < queue.length &&
        (take === 0 || size + (queue[take] as Waiting<E, S>).events.length <= opts.maxEvents)
      ) {
        size += (queue[take] as Waiting<E, S>).events.length;
        take++;
      }
      const batch = queue.slice(0, take);
      queue = queue.slice(take);
      // Entry ids are unique per delivery only ("single" for every non-bulk request): number them
      // for the batch and map the statuses back.
      const renamed: E[] = [];
      const origin: { waiting: Waiting<E, S>; entryId: string }[] = [];
      for (const w of batch)
        for (const e of w.events) {
          origin.push({ waiting: w, entryId: e.entryId });
          renamed.push({ ...e, entryId: String(renamed.length) });
        }
      try {
        const statuses = await apply(renamed);
        const per = new Map<Waiting<E, S>, Map<string, S>>(batch.map((w) => [w, new Map()]));
        origin.forEach((o, i) => {
          const status = statuses.get(String(i));
          if (status !== undefined) per.get(o.waiting)?.set(o.entryId, status);
        });
        for (const w of batch) w.resolve(per.get(w) ?? new Map());
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    running = false;
  }

  return (events) =>
    new Promise<Map<string, S>>((resolve, reject) => {
      queue.push({ events, resolve, reject });
      if (!running) void drain();
    });
}
