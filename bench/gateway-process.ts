// A Graft gateway in its own process, for benchmarks: GRAFT_DATA_DIR names the registry,
// BENCH_EDGE_POLICY=off turns the edge policy off. Prints {"event":"ready","url":...}.
import { loadGraftConfig } from '../gateway/config/index.js';
import { startGraftServer } from '../gateway/server/index.js';

const config = await loadGraftConfig(process.env, { port: Number(process.env['PORT'] ?? 0) });
const server = await startGraftServer({ config, edgePolicy: process.env['BENCH_EDGE_POLICY'] !== 'off' });
process.stdout.write(`${JSON.stringify({ event: 'ready', url: server.url, pid: process.pid })}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.once('end', stop);
process.stdin.resume();
