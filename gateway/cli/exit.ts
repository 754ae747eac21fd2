// CLI exit codes, shared with `graft check` (issue: schema checks):
// 0 success, 1 the registry or the check refused, 2 bad usage or unreadable input.
import { ConfigError } from '../config/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';

export const ExitCode = { OK: 0, REFUSED: 1, USAGE: 2 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

const USAGE_CODES = new Set<string>([
  GraftErrorCode.BAD_REQUEST,
  GraftErrorCode.MANIFEST_INVALID,
  GraftErrorCode.SDL_INVALID,
  GraftErrorCode.DEV_MODE_ONLY,
]);

export function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ConfigError) return ExitCode.USAGE;
  if (error instanceof GraftError) return USAGE_CODES.has(error.code) ? ExitCode.USAGE : ExitCode.REFUSED;
  return ExitCode.REFUSED;
}
