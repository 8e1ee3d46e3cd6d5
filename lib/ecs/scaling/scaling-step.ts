/**
 * One step of a step-scaling policy: while the metric is in `[lower, upper)`, change the capacity by `change`.
 *
 * Bounds are absolute metric values (for a busy-worker ratio, percent), not offsets from the alarm
 * threshold: the construct computes the offsets.
 */
export interface ScalingStep {
  /**
   * Inclusive lower bound of the metric range.
   * @default - no lower bound (only allowed on the first scale-in step)
   */
  readonly lower?: number;
  /**
   * Exclusive upper bound of the metric range.
   * @default - no upper bound (only allowed on the last scale-out step)
   */
  readonly upper?: number;
  /** Capacity change: positive for scale-out steps, negative for scale-in steps. */
  readonly change: number;
}
