/**
 * The allocator setting of the engine's addon (native/addon.c): on glibc, large blocks stay
 * mapped on their own, so freed multi-megabyte buffers go back to the system; elsewhere it
 * changes nothing and says so.
 */
import { describe, expect, it } from 'vitest';
import { tuneAllocator } from '../../src-main/core/backup/engine/native.js';

const glibc = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);

describe('the allocator setting', () => {
  it('applies on glibc (and only there), and may be applied again', () => {
    expect(tuneAllocator()).toBe(glibc);
    expect(tuneAllocator()).toBe(glibc);
  });
});
