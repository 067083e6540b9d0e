// Runs async jobs one at a time, so a ban issued during `apply` cannot be lost by the table swap.

export type SerialQueue = <T>(job: () => Promise<T>) => Promise<T>;

export function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>): Promise<T> => {
    const next = tail.then(job, job);
    // The chain must survive a failed job; the caller still sees the failure through `next`.
    tail = next.catch(() => undefined);
    return next;
  };
}
