// What must exist exactly once before any worker starts: created by the primary, so N
// workers starting together never race to create it (and never end up with N keys).
import { mkdir } from 'node:fs/promises';
import { loadOrCreateDevIssuer, type DevIssuer } from '../auth/index.js';
import type { GraftConfig } from '../config/index.js';
import { openSqliteRegistry, registryFileIn } from '../registry/index.js';
import { UpstreamTokenIssuer } from '../upstream/index.js';

export interface SharedState {
  /** The dev issuer (development mode only): the primary signs the banner's token with it. */
  devIssuer: DevIssuer | undefined;
}

export async function prepareSharedState(config: GraftConfig): Promise<SharedState> {
  await mkdir(config.dataDir, { recursive: true });
  // Opening the registry applies its migrations; the workers then open an up-to-date file.
  const store = openSqliteRegistry({ file: registryFileIn(config.dataDir) });
  await store.close();
  const devIssuer = config.mode === 'development' ? await loadOrCreateDevIssuer(config.dataDir) : undefined;
  // Every worker signs upstream tokens with this one key and publishes it in its JWKS.
  const upstream = await UpstreamTokenIssuer.create({ issuer: config.upstreamIssuer, dataDir: config.dataDir });
  upstream.stop();
  return { devIssuer };
}
