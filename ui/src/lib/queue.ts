// A scanner can send the next code before the last one is in the sale. Each code is a call to
// the engine and a new cart to show; run concurrently, an older answer can land after a newer
// one and the screen shows a stale sale. The billing screen puts its codes through one queue.

/** Runs tasks one after another, in the order pushed; a failed task does not stop the rest. */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  /** Queues `task`; the promise settles when it has run (never rejects: handle errors inside). */
  push(task: () => Promise<void>): Promise<void> {
    this.queued++;
    const done = this.tail
      .then(task)
      .catch(() => undefined)
      .finally(() => {
        this.queued--;
      });
    this.tail = done;
    return done;
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.queued;
  }
}
