// Runs example extensions together in this one process, each on its own port: what
// `graft start` spawns (gateway/cli/examples.ts). One process loads the SDK once; four
// would each pay its start-up, which on a 2-core machine is most of `npm start`'s time.
//   node dist/subgraphs/serve-examples.js crm=4101 orders=4102 inventory=4103 privacy=4104
// The contract is runExtensionProcess's (subgraphs/sdk/process.ts): env HOST,
// GRAFT_GATEWAY_JWKS_URL / _ISSUER, GRAFT_EXIT_WITH_PARENT; one ready line per extension.
import { extension as crm } from './crm/index.js';
import { extension as inventory } from './inventory/index.js';
import { extension as orders } from './orders/index.js';
import { extension as privacy } from './privacy/index.js';
import { runExtensionsProcess, type Extension, type HostedExtension } from './sdk/index.js';

const EXAMPLES: Record<string, Extension> = { crm, orders, inventory, privacy };

const hosted: HostedExtension[] = process.argv.slice(2).map((arg) => {
  const [name = '', port = ''] = arg.split('=');
  const extension = EXAMPLES[name];
  if (!extension || !/^\d+$/.test(port)) {
    process.stderr.write(`serve-examples: expected <name>=<port> with name one of ${Object.keys(EXAMPLES).join(', ')}, got "${arg}"\n`);
    process.exit(2);
  }
  return { extension, port: () => Number(port) };
});
await runExtensionsProcess(hosted, { serviceName: 'graft-examples' });
