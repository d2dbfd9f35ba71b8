/** The first-run checklist: six steps, each ticked by what the core reports, shown until all are done. */
import type { ChecklistItem, Destination } from './health.js';

export function Checklist({ items, onGo }: { items: ChecklistItem[]; onGo: (to: Destination) => void }) {
  const done = items.filter((i) => i.done).length;
  if (done === items.length) return null;
  return (
    <section className="card" aria-labelledby="checklist-title" data-testid="checklist">
      <h2 id="checklist-title">Get started</h2>
      <p className="small muted" data-testid="checklist-progress">
        {done} of {items.length} steps done.
      </p>
      <ol className="checklist">
        {items.map((item) => (
          <li key={item.id} className={item.done ? 'done' : undefined} data-testid={`checklist-${item.id}`} data-done={item.done ? 'true' : 'false'}>
            <span className="checklist-mark" aria-hidden="true">
              {item.done ? '✓' : ''}
            </span>
            <span className="checklist-label">
              {item.label}
              <span className="visually-hidden">{item.done ? ' (done)' : ' (to do)'}</span>
            </span>
            {!item.done && (
              <button type="button" className="link" onClick={() => onGo(item.go)} aria-label={`${item.action}: ${item.label}`}>
                {item.action}
              </button>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
