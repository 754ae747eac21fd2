// Anchor 1: plain @apollo/gateway + @apollo/server, no policy, default data sources, one
// process (what a platform team gets out of the box). SUPERGRAPH_FILE names the supergraph,
// PORT the port (0: any). Prints {"event":"ready","url":...,"pid":...}.
import { readFile } from 'node:fs/promises';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const file = process.env['SUPERGRAPH_FILE'];
if (!file) throw new Error('SUPERGRAPH_FILE is required');
const gateway = new ApolloGateway({ supergraphSdl: await readFile(file, 'utf8') });
const server = new ApolloServer({ gateway, stopOnTerminationSignals: false });
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: Number(process.env['PORT'] ?? 0) } });
process.stdout.write(`${JSON.stringify({ event: 'ready', url: url.replace(/\/$/, ''), pid: process.pid })}\n`);

const stop = () => void server.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.once('end', stop);
process.stdin.resume();
