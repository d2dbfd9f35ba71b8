/** Counts in words: "1 file", "9,467 objects", with the reader's digit grouping. */
const numbers = new Intl.NumberFormat();
const rules = new Intl.PluralRules('en');

export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : numbers.format(n);
}

/** "1 file", "3 packs", "2 pipes, sockets or devices": a count with its noun (the plural given where adding an s is wrong). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${rules.select(n) === 'one' ? one : many}`;
}

/** The verb that agrees with a count: isAre(1) is "is", isAre(3) is "are". */
export function isAre(n: number): string {
  return rules.select(n) === 'one' ? 'is' : 'are';
}

export function wasWere(n: number): string {
  return rules.select(n) === 'one' ? 'was' : 'were';
}
