/** Exit codes operators script against (PRODUCT.md §2). */
export const EXIT = {
  ok: 0,
  /** Runtime failure. */
  failure: 1,
  /** Bad command line. */
  usage: 2,
  /** Configuration error, and the 410-Gone case (the API removed the resource): retrying will not help. */
  config: 78,
} as const;
