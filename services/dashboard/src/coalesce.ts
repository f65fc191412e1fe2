/**
 * Runs `work` for a key at most once at a time. A caller arriving while a run is in flight waits
 * for the next run, which starts when the current one ends and serves every caller queued behind
 * it: a burst of N events on one hot report costs two recomputations, not N, and every caller
 * returns only after a run that started after it arrived.
 */
export function coalescer<K>(): (key: K, work: () => Promise<void>) => Promise<void> {
  interface Slot {
    /** Settles (never rejects) when the last scheduled run has ended. */
    tail: Promise<void>;
    /** The run that has not started yet, shared by everyone who arrived during the current one. */
    queued: Promise<void> | null;
  }
  const slots = new Map<K, Slot>();
  const ignore = () => undefined;

  function track(key: K, slot: Slot, run: Promise<void>): Promise<void> {
    const tail: Promise<void> = run.then(ignore, ignore).then(() => {
      if (slot.tail === tail && slot.queued === null) slots.delete(key);
    });
    return tail;
  }

  return (key, work) => {
    const slot = slots.get(key);
    if (slot?.queued) return slot.queued;
    if (slot) {
      const next = slot.tail.then(() => {
        slot.queued = null;
        return work();
      });
      slot.queued = next;
      slot.tail = track(key, slot, next);
      return next;
    }
    const fresh: Slot = { tail: Promise.resolve(), queued: null };
    const run = work();
    fresh.tail = track(key, fresh, run);
    slots.set(key, fresh);
    return run;
  };
}
