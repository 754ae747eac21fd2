// The contender: Graft with its edge policy on (JWT verification, authorization, static
// cost, query limits; scoped upstream tokens), one process (bench/gateway-process.ts) on a
// fresh data dir, with the four Guild subgraphs published to it through the admin API.
// NODE_ENV=production by default: JWTs are verified against a JWKS file holding the dev
// issuer's public key (so the dev tokens the bench signs are valid), and the loopback
// subgraphs are allowed explicitly (GRAFT_NET_ALLOW_LOOPBACK).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateDevIssuer, signDevToken } from '../../gateway/auth/index.js';
import { GRAFT_NODE_FLAGS } from '../../gateway/config/index.js';
import { SUBGRAPHS } from '../guild/index.js';
import { spawnReady, type ReadyProcess } from '../lib/index.js';

export interface StartedGraft {
  process: ReadyProcess;
  /** e.g. http://127.0.0.1:port (no path) */
  url: string;
  /** A user token with every scope the four extensions are granted. */
  userToken: string;
  adminToken: string;
  /** The supergraph Graft composed on publish (GET /admin/supergraph). */
  supergraphSdl: string;
  /** How this gateway was started: a sibling on the same data dir starts the same way. */
  launch: { env: Record<string, string>; nodeArgs: string[] };
}

export interface StartGraftOptions {
  /** Its data dir and JWKS file go under it. */
  workDir: string;
  subgraphUrls: Record<string, string>;
  nodeEnv?: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

export async function startGraft(options: StartGraftOptions): Promise<StartedGraft> {
  const nodeEnv = options.nodeEnv ?? 'production';
  const maxConcurrent = process.env['BENCH_GRAFT_MAX_CONCURRENT'] || undefined;
  const dataDir = join(options.workDir, 'graft');
  const issuer = await loadOrCreateDevIssuer(dataDir);
  const jwksFile = join(options.workDir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify(issuer.jwks));
  const env: Record<string, string> = {
    GRAFT_DATA_DIR: dataDir,
    PORT: '0',
    NODE_ENV: nodeEnv,
    // The cost check stays on; its budget sits above the nested query's estimate (24,420
    // with the default list size of 10, against a default limit of 10,000).
    GRAFT_MAX_COST: process.env['BENCH_GRAFT_MAX_COST'] ?? '50000',
    // The per-extension bulkhead is Graft's default (256 running + 256 queued): with it, no
    // answer failed at 50 connections. BENCH_GRAFT_MAX_CONCURRENT=<n> sets another size.
    ...(maxConcurrent === undefined ? {} : { GRAFT_UPSTREAM_MAX_CONCURRENT: maxConcurrent }),
    ...(nodeEnv === 'production' ? { GRAFT_JWT_ISSUER: issuer.issuer, GRAFT_JWKS_FILE: jwksFile, GRAFT_NET_ALLOW_LOOPBACK: 'true' } : {}),
    ...options.env,
  };
  // Started as Graft's own launchers start it (npm start, GRAFT_WORKERS): with its node flags.
  const nodeArgs = [...GRAFT_NODE_FLAGS, ...(options.nodeArgs ?? [])];
  const started = await spawnReady('bench/gateway-process.ts', env, 60_000, nodeArgs);
  try {
    const url = String(started.ready['url']);
    const adminToken = await signDevToken(issuer, { subject: 'bench-admin', scopes: ['graft:admin'], ttlSeconds: 7200 });
    const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    // This order composes at every step (inventory's @requires needs products' price and weight).
    for (const name of ['accounts', 'products', 'inventory', 'reviews'] as const) {
      const subgraph = SUBGRAPHS.find((s) => s.name === name)!;
      const registered = await fetch(`${url}/admin/extensions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name, owner: 'bench', description: `The Guild benchmark subgraph ${name}` }),
      });
      if (registered.status !== 201) throw new Error(`register ${name}: HTTP ${registered.status} ${await registered.text()}`);
      const manifest = {
        name,
        version: '1.0.0',
        owner: 'bench',
        subgraph: { url: options.subgraphUrls[name], schema: `./${name}.graphql` },
        grants: [`${name}:read`],
        limits: { timeoutMs: 5000 },
      };
      const published = await fetch(`${url}/admin/extensions/${name}/versions`, { method: 'POST', headers, body: JSON.stringify({ manifest, sdl: subgraph.sdl }) });
      if (published.status !== 201) throw new Error(`publish ${name}: HTTP ${published.status} ${await published.text()}`);
    }
    const stored = (await (await fetch(`${url}/admin/supergraph`, { headers })).json()) as { sdl: string };
    const userToken = await signDevToken(issuer, { subject: 'bench-user', scopes: SUBGRAPHS.map((s) => `${s.name}:read`), ttlSeconds: 7200 });
    return { process: started, url, userToken, adminToken, supergraphSdl: stored.sdl, launch: { env, nodeArgs } };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

/**
 * A second Graft process on the same data dir (same registry, keys and supergraph), started
 * the same way with `env` and `nodeArgs` added: e.g. BENCH_EDGE_POLICY=off for the
 * policy-overhead contender.
 */
export async function startGraftSibling(of: StartedGraft, env: Record<string, string>, nodeArgs: string[] = []): Promise<ReadyProcess> {
  return spawnReady('bench/gateway-process.ts', { ...of.launch.env, ...env }, 60_000, [...of.launch.nodeArgs, ...nodeArgs]);
}
