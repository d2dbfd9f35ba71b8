/**
 * axe on the page as it is now, in the light and the dark theme: every finding of moderate,
 * serious or critical impact, as "rule: selector" lines (an empty list is the pass).
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

const COUNTED = new Set(['moderate', 'serious', 'critical']);

export async function a11yFindings(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations.filter((v) => v.impact && COUNTED.has(v.impact)).flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

/** The findings in both themes, each line tagged with its theme; the page is left in the light theme. */
export async function a11yFindingsBothThemes(page: Page): Promise<string[]> {
  const found: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    found.push(...(await a11yFindings(page)).map((f) => `${colorScheme}: ${f}`));
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}
