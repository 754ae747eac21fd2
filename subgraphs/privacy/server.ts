// Runs the privacy extension as its own process:
//   node --import tsx subgraphs/privacy/server.ts     (env PORT, default 4104; HOST, default 127.0.0.1)
// Prints one JSON line {"event":"ready",...} when listening; SIGTERM/SIGINT close it.
import { runExtensionProcess } from '../sdk/index.js';
import { DEFAULT_PORT, extension } from './index.js';

await runExtensionProcess(extension, { defaultPort: DEFAULT_PORT });
