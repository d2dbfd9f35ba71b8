/**
 * Prints one plain closing line, "Tests: N passed, N failed, N skipped", after vitest's own
 * summary, so any CI that reads closing lines sees the counts whatever the runner.
 *
 * A test that never finished (its worker process ended under it, say by a signal) is neither
 * passed nor skipped: it is counted as unfinished, and it and its file are named, because
 * vitest's own report then says only "Worker exited unexpectedly".
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const unfinished: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else if (state === 'skipped') skipped++;
        else unfinished.push(`${module.relativeModuleId} > ${test.fullName}`);
      }
      if (module.state() === 'queued' || module.state() === 'pending') {
        if (!unfinished.some((line) => line.startsWith(`${module.relativeModuleId} > `))) unfinished.push(`${module.relativeModuleId} (never ran to its end)`);
      }
    }
    for (const line of unfinished) process.stdout.write(`\nUnfinished: ${line}`);
    const tail = unfinished.length > 0 ? `, ${unfinished.length} unfinished` : '';
    process.stdout.write(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped${tail}\n`);
  }
}
