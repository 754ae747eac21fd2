// Apollo Server logs through this. stdout is reserved for the process contract (the
// single "ready" line, see process.ts), so everything goes to stderr, and only
// warnings and errors: info-level chatter is noise in a spawned child.
import type { ApolloServerOptions, BaseContext } from '@apollo/server';

// The Logger type via @apollo/server, which is a direct dependency (@apollo/utils.logger is not).
type Logger = NonNullable<ApolloServerOptions<BaseContext>['logger']>;

export function stderrLogger(extension: string): Logger {
  const write = (level: string, args: unknown[]): void => {
    process.stderr.write(`${extension} ${level}: ${args.map(String).join(' ')}\n`);
  };
  return {
    debug: () => {},
    info: () => {},
    warn: (...args: unknown[]) => write('warn', args),
    error: (...args: unknown[]) => write('error', args),
  };
}
