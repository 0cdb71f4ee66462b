// Durations are milliseconds or strings such as '500ms', '10s', '5m', '24h', '7d'; this is the one
// place that turns them into milliseconds, and so the one place that checks them, whatever their
// type: options, shutdown({ drain }), result({ timeout }) and sleep() all come through here.
import { ConfigurationError } from '../errors';
import { showValue } from '../options/show-value';

/** A number of milliseconds, or a string such as `'500ms'`, `'10s'`, `'5m'`, `'24h'`, `'7d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const pattern = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Whether `text` is a duration string such as `'30m'` (as written: no surrounding spaces). */
export function isDurationText(text: string): boolean {
  return pattern.test(text);
}

/** Milliseconds of `duration`; `what` names the option in the error when it is malformed. */
export function parseDuration(duration: unknown, what: string): number {
  if (typeof duration === 'number') {
    if (Number.isFinite(duration) && duration >= 0) return duration;
  } else if (typeof duration === 'string') {
    const match = pattern.exec(duration.trim());
    if (match) return Math.round(Number(match[1]) * unitMs[match[2] as keyof typeof unitMs]);
  }
  throw new ConfigurationError(
    `${what} must be a non-negative number of milliseconds or a string such as '500ms', '10s', '5m', '24h', '7d'; got ${showValue(duration)}.`,
  );
}
