// The gateway's pino logger: JSON lines, with credentials redacted wherever they could
// appear (an Authorization or Cookie header, a token or secret field), at any of the
// depths Graft's own log calls use.
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACTED = '[redacted]';

/** Paths pino censors (see the README, "Operating Graft"). */
export const REDACT_PATHS: readonly string[] = [
  'authorization',
  'cookie',
  'token',
  'accessToken',
  'password',
  'secret',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'request.headers.authorization',
  'request.headers.cookie',
  '*.authorization',
  '*.cookie',
  '*.token',
  '*.accessToken',
  '*.password',
  '*.secret',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
];

export function createGraftLogger(options: { level: string; destination?: DestinationStream }): Logger {
  const settings = { level: options.level, redact: { paths: [...REDACT_PATHS], censor: REDACTED } };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
