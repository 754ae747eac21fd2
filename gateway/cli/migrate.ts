// `graft migrate --from <sqlite file> --to postgres://...`: moves a registry from the
// embedded SQLite file to PostgreSQL with its whole history (gateway/registry,
// copy-to-postgres.ts). Exit codes: 0 copied; 1 refused (the target is not empty and
// --force was not given, or the database went away); 2 bad usage (no such file, not a
// postgres:// URL, an unreachable database).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isPostgresUrl } from '../config/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { CliError, ExitCode } from './exit.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Copy a SQLite registry, with its whole history, into an empty PostgreSQL registry')
    .requiredOption('--from <file>', 'the SQLite registry file (e.g. .graft/registry.sqlite)')
    .requiredOption('--to <url>', 'the PostgreSQL registry: postgres://user:password@host:5432/database')
    .option('--force', 'replace the Graft tables of a non-empty target (DROPs them first)')
    .action(async (options: { from: string; to: string; force?: boolean }) => {
      const { copySqliteRegistryToPostgres, describePostgresUrl } = await import('../registry/index.js');
      const from = resolve(options.from);
      if (!existsSync(from)) throw new CliError(`--from: no registry file at ${from}.`, ExitCode.USAGE);
      if (!isPostgresUrl(options.to)) throw new CliError('--to must be a postgres:// or postgresql:// URL.', ExitCode.USAGE);
      try {
        const report = await copySqliteRegistryToPostgres({ from, to: options.to, force: options.force ?? false });
        const copied = Object.entries(report.rows).map(([table, count]) => `${table} ${count}`).join(', ');
        process.stdout.write(`Copied ${from} to ${describePostgresUrl(options.to)}: ${copied}. Change counter: ${report.changeId}.\n`);
      } catch (error) {
        if (error instanceof GraftError && error.details?.['nonEmptyTables']) throw new CliError(error.message, ExitCode.REFUSED, error.code);
        // Unreachable before anything started: bad usage (the URL); gone during the copy: refused (nothing was copied).
        if (error instanceof GraftError && error.code === GraftErrorCode.REGISTRY_UNAVAILABLE && error.details?.['during'] !== 'copy') {
          const { registry: where, reason } = error.details ?? {};
          throw new CliError(`--to: PostgreSQL at ${String(where)} cannot be reached (${String(reason)}): check the URL and that PostgreSQL runs.`, ExitCode.USAGE, error.code);
        }
        throw error;
      }
    });
}
