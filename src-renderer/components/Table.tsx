/**
 * The app's one data table: a header row with scoped column headers, one row per item, and a
 * horizontal scroll of its own when a narrow window cannot fit it (the page itself never scrolls
 * sideways); on a phone-wide window each row becomes a card of label and value (`data-label`).
 * Columns say how to show a row; a column may have a header only screen readers hear.
 */
import type { ReactNode } from 'react';

export interface Column<T> {
  /** The column's header text (also its React key). */
  header: string;
  cell: (row: T) => ReactNode;
  /** A header heard but not seen, for a column of buttons. */
  hideHeader?: boolean;
  className?: string;
  /** A test id on each of the column's cells. */
  testId?: string;
}

export function Table<T>(props: {
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string | number;
  testId?: string;
  caption?: string;
  rowClassName?: (row: T) => string | undefined;
  rowProps?: (row: T) => Record<string, string | undefined>;
}) {
  return (
    <div className="table-scroll">
      <table className="table" data-testid={props.testId}>
        {props.caption && <caption className="visually-hidden">{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.header} scope="col" className={c.className}>
                {c.hideHeader ? <span className="visually-hidden">{c.header}</span> : c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)} className={props.rowClassName?.(row)} {...props.rowProps?.(row)}>
              {props.columns.map((c) => (
                <td key={c.header} className={c.className} data-testid={c.testId} data-label={c.hideHeader ? undefined : c.header}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
