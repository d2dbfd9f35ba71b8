/** How both screens show a step-up digest (docs/security.md): its first 8 hex digits, "3f2a 91c0". */
export function shortDigest(digest: string): string {
  return `${digest.slice(0, 4)} ${digest.slice(4, 8)}`;
}
