/**
 * Which stored verdicts count towards a node's V (docs/INCENTIVES.md §9):
 * not those the coordinator could not check (`coordinator-error: …`), nor
 * those of the rounds that climb from a probe (`probe: …`), which measure a
 * node and credit it nothing. SQL shared by the SQLite and PostgreSQL stores.
 */

/** A SQL condition on the reason column `column`: true for a verdict that counts. */
export function countedVerdict(column: string): string {
  return `(${column} IS NULL OR (${column} NOT LIKE 'coordinator-error:%' AND ${column} NOT LIKE 'probe:%'))`;
}
