// `graft init extension <name> [--dir <path>]`: scaffolds a working extension on the SDK
// (gateway/toolkit/scaffold.ts). Only commander is loaded up front; the toolkit (and the
// code generator) load when the command runs.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, ExitCode } from './exit.js';

interface InitOptions {
  dir?: string;
  owner?: string;
  port: string;
  link: boolean;
  codegen: boolean;
}

export function registerInitCommand(program: Command): void {
  const init = program.command('init').description('Scaffold something new');
  init
    .command('extension')
    .description('Scaffold a working extension on the SDK: graft.json, SDL, typed resolvers, a test, a README')
    .argument('<name>', 'extension name (a DNS label, e.g. loyalty)')
    .option('--dir <path>', 'where to write it (default: ./<name>); must not exist or be empty')
    .option('--owner <owner>', 'owner in graft.json (team or e-mail)')
    .option('--port <port>', 'port of subgraph.url and of npm start', '4200')
    .option('--no-link', 'do not link node_modules to this Graft checkout (run npm install yourself)')
    .option('--no-codegen', 'do not generate the resolver types now')
    .action(async (name: string, options: InitOptions) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new CliError(`--port must be a port number; got "${options.port}".`, ExitCode.USAGE);
      const { scaffoldExtension } = await import('../toolkit/index.js');
      const dir = resolve(options.dir ?? name);
      const result = await scaffoldExtension({
        name,
        dir,
        port,
        link: options.link,
        codegen: options.codegen,
        ...(options.owner ? { owner: options.owner } : {}),
      });
      const lines = [
        `Created extension "${result.name}" in ${result.dir}:`,
        ...result.files.map((file) => `  ${file}`),
        '',
        result.linked.length > 0
          ? `Linked node_modules to this Graft checkout (${result.linked.join(', ')}): nothing to install.`
          : 'Run npm install in it first (it depends on this Graft checkout through a file: dependency).',
        '',
        'Next:',
        `  cd ${result.dir}`,
        '  npm test          # the extension over real HTTP, with the SDK test kit',
        '  npm run dev       # a local gateway with it and the examples; reloads on change',
        '',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
