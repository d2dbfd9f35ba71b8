import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src-main/core/backup/engine/read-ahead.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A source that counts how far it was read and whether its clean-up ran. */
function counted(count: number, failAt = -1) {
  const state = { produced: 0, cleanedUp: false };
  async function* source() {
    try {
      for (let i = 0; i < count; i++) {
        await tick();
        if (i === failAt) throw new Error(`source failed at ${i}`);
        state.produced++;
        yield i;
      }
    } finally {
      state.cleanedUp = true;
    }
  }
  return { state, source: source() };
}

describe('reading a sequence ahead of its consumer', () => {
  it('yields every item in order, the source running ahead of a busy consumer by at most the bound', async () => {
    const { state, source } = counted(20);
    const seen: number[] = [];
    const ahead: number[] = [];
    for await (const item of readAhead(source, 5)) {
      await new Promise((r) => setTimeout(r, 40)); // the consumer is slower than the source
      ahead.push(state.produced - seen.length - 1);
      seen.push(item);
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(Math.max(...ahead)).toBe(5);
    expect(ahead[0]).toBeGreaterThanOrEqual(4); // it ran ahead while the first item was being used
  });

  it('delivers a failure of the source after the items that came before it', async () => {
    const { source } = counted(10, 3);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const item of readAhead(source, 8)) seen.push(item);
      })(),
    ).rejects.toThrow('source failed at 3');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('stops the source, and runs its clean-up, when the consumer stops early', async () => {
    const { state, source } = counted(1000);
    for await (const item of readAhead(source, 3)) {
      if (item === 2) break;
    }
    expect(state.cleanedUp).toBe(true);
    const produced = state.produced;
    await new Promise((r) => setTimeout(r, 50));
    expect(state.produced).toBe(produced);
    expect(produced).toBeLessThanOrEqual(3 + 3 + 1);
  });
});
