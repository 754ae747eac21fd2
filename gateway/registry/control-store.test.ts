// The control plane's store contract (control-contract.ts) on real SQLite files.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { controlStoreContract } from './control-contract.js';
import { openSqliteRegistry, type SqliteRegistryStore } from './index.js';

let dir: string;
const opened: SqliteRegistryStore[] = [];

controlStoreContract('SQLite', {
  async setUp() {
    dir = await mkdtemp(join(tmpdir(), 'graft-control-store-'));
  },
  async tearDown() {
    for (const store of opened.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  },
  async open() {
    const store = openSqliteRegistry({ file: join(dir, 'registry.sqlite') });
    opened.push(store);
    return store;
  },
  async exec(sql) {
    const raw = new Database(join(dir, 'registry.sqlite'));
    try {
      raw.exec(sql);
    } finally {
      raw.close();
    }
  },
});
