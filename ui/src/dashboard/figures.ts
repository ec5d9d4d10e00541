// Small calculations of the dashboard's figures. Pure.

/** ms → decimal hours for charts: 5_400_000 → 1.5 (two decimals). */
export function hoursOf(ms: number): number {
  return Math.round((Math.max(0, ms) / 3_600_000) * 100) / 100;
}

/** Active share of clocked time: (active 3h, clocked 4h) → 0.75; nothing clocked → 0. */
export function activeShare(active_ms: number, clocked_ms: number): number {
  return clocked_ms > 0 ? Math.min(1, Math.max(0, active_ms / clocked_ms)) : 0;
}
