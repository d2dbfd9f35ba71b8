/**
 * A notice that needs the person: what happened, a button that goes where to act, and Dismiss.
 * Dismissing hides it for now; what it warns about stays true elsewhere (the card it points to).
 */
import { useState, type ReactNode } from 'react';

export function Banner(props: {
  children: ReactNode;
  /** Where to act: the button's label and what it opens. */
  action?: { label: string; onClick: () => void };
  onDismiss?: () => void;
  role?: 'alert' | 'status';
  testId?: string;
}) {
  const [dismissed, setDismissed] = useState(false);
  if (dismissed) return null;
  return (
    <div className="notice banner" role={props.role ?? 'status'} data-testid={props.testId}>
      <div>{props.children}</div>
      <div className="actions">
        <button type="button" onClick={() => (setDismissed(true), props.onDismiss?.())}>
          Dismiss
        </button>
        {props.action && (
          <button type="button" className="primary" onClick={props.action.onClick}>
            {props.action.label}
          </button>
        )}
      </div>
    </div>
  );
}
