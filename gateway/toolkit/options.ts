// Parsing the toolkit commands' option values; a bad value is BAD_REQUEST (exit 2).
import { GraftError, GraftErrorCode } from '../errors/index.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

function bad(message: string): GraftError {
  return new GraftError(GraftErrorCode.BAD_REQUEST, message);
}

/** "200ms", "1.5s", "2m" or a bare number of milliseconds. */
export function parseDuration(option: string, value: string, { min = 0, max = 3_600_000 } = {}): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) throw bad(`${option} takes a duration such as 200ms, 1.5s or 2m; got "${value}".`);
  const ms = Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
  if (ms < min || ms > max) throw bad(`${option} must be from ${min} ms to ${max} ms; got "${value}".`);
  return ms;
}

/** "0.1" or "10%". */
export function parseRate(option: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(%)?$/.exec(value.trim());
  const rate = match ? Number(match[1]) / (match[2] ? 100 : 1) : NaN;
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw bad(`${option} takes a rate from 0 to 1 (or 0% to 100%); got "${value}".`);
  return rate;
}

export function parseInteger(option: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw bad(`${option} must be a whole number from ${min} to ${max}; got "${value}".`);
  }
  return number;
}
