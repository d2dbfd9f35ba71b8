/**
 * An async sequence read ahead of its consumer, up to `max` items: the source runs on while the
 * consumer is busy, so whatever the source does as it goes happens early. A restore's walk is
 * read ahead this way: listing folders before the restore reaches them queues their packs for
 * the prefetch (restore-prefetch.ts), so a remote pack is fetched while earlier files are still
 * being written, not when the walk asks for it. Items come in the source's order; a failure of
 * the source comes after the items before it; a consumer that stops early stops the source.
 */
export async function* readAhead<T>(source: AsyncIterator<T>, max: number): AsyncGenerator<T> {
  const buffered: T[] = [];
  let done = false;
  let failure: { error: unknown } | null = null;
  let stopped = false;
  let wakeConsumer: (() => void) | null = null;
  let wakeProducer: (() => void) | null = null;
  const signal = (which: 'consumer' | 'producer') => {
    const wake = which === 'consumer' ? wakeConsumer : wakeProducer;
    if (which === 'consumer') wakeConsumer = null;
    else wakeProducer = null;
    wake?.();
  };

  const producing = (async () => {
    try {
      while (!stopped) {
        if (buffered.length >= max) {
          await new Promise<void>((resolve) => (wakeProducer = resolve));
          continue;
        }
        const next = await source.next();
        if (next.done) break;
        buffered.push(next.value);
        signal('consumer');
      }
    } catch (error) {
      failure = { error };
    } finally {
      done = true;
      signal('consumer');
    }
  })();

  try {
    for (;;) {
      if (buffered.length > 0) {
        const item = buffered.shift()!;
        signal('producer');
        yield item;
        continue;
      }
      if (done) {
        if (failure) throw (failure as { error: unknown }).error;
        return;
      }
      await new Promise<void>((resolve) => (wakeConsumer = resolve));
    }
  } finally {
    stopped = true;
    signal('producer');
    await producing;
    // Runs the source's own clean-up (a no-op for one that ended or failed).
    await source.return?.();
  }
}
