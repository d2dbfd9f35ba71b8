/** Where a request came from, as the audit log records it. Faces fill it in; the core trusts no more. */
export interface RequestContext {
  ip: string;
  workstation: string;
}
