// The registry's schema, versioned in code. Each migration runs in its own transaction
// and is recorded in schema_migrations, so opening an up-to-date file changes nothing
// and a half-applied migration never survives a crash. Never edit a shipped migration:
// append a new one (files in the field have already run the old text).
import type { Database } from 'better-sqlite3';
import { schemaTooNew } from './rules.js';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial registry schema',
    up: `
      CREATE TABLE extensions (
        name           TEXT PRIMARY KEY NOT NULL,
        owner          TEXT NOT NULL,
        description    TEXT NOT NULL DEFAULT '',
        status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'retired')),
        active_version TEXT,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        -- The active version must be one that was really published (NULL until the first
        -- publish; SQLite does not enforce a foreign key whose columns contain NULL).
        FOREIGN KEY (name, active_version) REFERENCES extension_versions (extension, version)
      );

      CREATE TABLE supergraphs (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        sdl        TEXT NOT NULL,
        api_sdl    TEXT NOT NULL,
        hash       TEXT NOT NULL CHECK (length(hash) = 64),
        members    TEXT NOT NULL CHECK (json_valid(members)),
        created_at TEXT NOT NULL
      );

      CREATE TABLE extension_versions (
        extension     TEXT NOT NULL REFERENCES extensions (name),
        version       TEXT NOT NULL,
        manifest      TEXT NOT NULL CHECK (json_valid(manifest)),
        sdl           TEXT NOT NULL,
        published_by  TEXT NOT NULL,
        published_at  TEXT NOT NULL,
        supergraph_id INTEGER NOT NULL REFERENCES supergraphs (id),
        PRIMARY KEY (extension, version)
      );

      CREATE TABLE audit_events (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        extension TEXT,
        details   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
      );
      CREATE INDEX audit_events_by_extension ON audit_events (extension, id);

      -- A published version is a promise to every frontend and CI run that checked
      -- against it: the database itself refuses to change it, whoever writes the SQL.
      CREATE TRIGGER extension_versions_no_update BEFORE UPDATE ON extension_versions
      BEGIN
        SELECT RAISE(ABORT, 'extension versions are immutable: publish a new version instead');
      END;
      CREATE TRIGGER extension_versions_no_delete BEFORE DELETE ON extension_versions
      BEGIN
        SELECT RAISE(ABORT, 'extension versions are immutable: publish a new version or retire the extension instead');
      END;

      -- Supergraphs are the history of what the gateway served; rollback means storing
      -- an old one again as a new row, never rewriting a row.
      CREATE TRIGGER supergraphs_no_update BEFORE UPDATE ON supergraphs
      BEGIN
        SELECT RAISE(ABORT, 'supergraphs are immutable: save a new supergraph instead');
      END;
      CREATE TRIGGER supergraphs_no_delete BEFORE DELETE ON supergraphs
      BEGIN
        SELECT RAISE(ABORT, 'supergraphs are immutable: save a new supergraph instead');
      END;

      -- The audit log is append-only. If retention is ever needed, a later migration
      -- drops this trigger deliberately.
      CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
      BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only');
      END;
      CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
      BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only');
      END;
    `,
  },
  {
    version: 2,
    name: 'per-tenant enablement',
    // NULL: enabled for every tenant; a JSON array: enabled for those tenants only.
    up: `ALTER TABLE extensions ADD COLUMN tenants TEXT;`,
  },
  {
    version: 3,
    name: 'version change reports and registered operations',
    up: `
      -- The change report of each version (JSON: verdict, changes, deprecations, forced
      -- overrides), written in the same INSERT as the version, so it is as immutable as the
      -- version itself. NULL for versions published before this migration.
      ALTER TABLE extension_versions ADD COLUMN report TEXT CHECK (report IS NULL OR json_valid(report));

      -- The operations frontends depend on: a publish that breaks one is refused, and the
      -- safelist serves only these. One operation per row, named by its operation name.
      CREATE TABLE registered_operations (
        name            TEXT PRIMARY KEY NOT NULL,
        document        TEXT NOT NULL,
        -- sha256 (hex) of document exactly as registered: the persisted-query id clients send.
        hash            TEXT NOT NULL CHECK (length(hash) = 64),
        -- sha256 (hex) of the document as graphql-js prints it (no comments, canonical spacing).
        normalized_hash TEXT NOT NULL CHECK (length(normalized_hash) = 64),
        client          TEXT,
        registered_by   TEXT NOT NULL,
        registered_at   TEXT NOT NULL,
        updated_at      TEXT NOT NULL
      );
      CREATE INDEX registered_operations_by_hash ON registered_operations (hash);
    `,
  },
  {
    version: 4,
    name: 'directive module sources',
    up: `
      -- The code of each extension resolver directive (gateway/directives), stored with the
      -- version that declares it in its manifest (directives[].module names the path), as
      -- immutable as the version itself.
      CREATE TABLE directive_modules (
        extension TEXT NOT NULL,
        version   TEXT NOT NULL,
        path      TEXT NOT NULL,
        source    TEXT NOT NULL,
        -- sha256 (hex) of source
        sha256    TEXT NOT NULL CHECK (length(sha256) = 64),
        PRIMARY KEY (extension, version, path),
        FOREIGN KEY (extension, version) REFERENCES extension_versions (extension, version)
      );
      CREATE TRIGGER directive_modules_no_update BEFORE UPDATE ON directive_modules
      BEGIN
        SELECT RAISE(ABORT, 'directive modules are immutable: publish a new version instead');
      END;
      CREATE TRIGGER directive_modules_no_delete BEFORE DELETE ON directive_modules
      BEGIN
        SELECT RAISE(ABORT, 'directive modules are immutable: publish a new version instead');
      END;
    `,
  },
  {
    version: 5,
    name: 'releases',
    up: `
      -- A release: extension versions stored and swapped together with one supergraph, all
      -- or nothing (a single publish is a release of one, a retirement one that retires).
      CREATE TABLE releases (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        supergraph_id INTEGER NOT NULL UNIQUE REFERENCES supergraphs (id),
        actor         TEXT NOT NULL,
        reason        TEXT,
        created_at    TEXT NOT NULL
      );
      -- A release's one audit event points at it, so the audit log of an extension also
      -- finds the releases of several extensions it was part of.
      ALTER TABLE audit_events ADD COLUMN release_id INTEGER REFERENCES releases (id);
      -- What each release did to each extension: published a version, or retired it.
      CREATE TABLE release_members (
        release_id INTEGER NOT NULL REFERENCES releases (id),
        position   INTEGER NOT NULL,
        extension  TEXT NOT NULL REFERENCES extensions (name),
        version    TEXT,
        change     TEXT NOT NULL CHECK (change IN ('publish', 'retire')),
        PRIMARY KEY (release_id, extension),
        CHECK ((change = 'publish') = (version IS NOT NULL))
      );
      CREATE INDEX release_members_by_extension ON release_members (extension, release_id);
      CREATE TRIGGER releases_no_update BEFORE UPDATE ON releases
      BEGIN
        SELECT RAISE(ABORT, 'releases are history: make a new release instead');
      END;
      CREATE TRIGGER releases_no_delete BEFORE DELETE ON releases
      BEGIN
        SELECT RAISE(ABORT, 'releases are history: make a new release instead');
      END;
      CREATE TRIGGER release_members_no_update BEFORE UPDATE ON release_members
      BEGIN
        SELECT RAISE(ABORT, 'releases are history: make a new release instead');
      END;
      CREATE TRIGGER release_members_no_delete BEFORE DELETE ON release_members
      BEGIN
        SELECT RAISE(ABORT, 'releases are history: make a new release instead');
      END;
    `,
  },
  {
    version: 6,
    name: 'shared upstream signing keys',
    up: `
      -- The keys that sign the tokens sent to extensions, shared by every gateway process on
      -- the registry (replicas on several hosts): public half in the clear, private half sealed
      -- (AES-256-GCM under GRAFT_KEY_ENCRYPTION_KEY; the database never holds it in plain text).
      -- A key is published from created_at and signs from signs_from (publish before sign);
      -- rows are never changed, so rotation is a new row and every process derives the same
      -- key set from the rows and the clock.
      CREATE TABLE upstream_signing_keys (
        kid                TEXT PRIMARY KEY NOT NULL,
        public_jwk         TEXT NOT NULL CHECK (json_valid(public_jwk)),
        sealed_private_jwk TEXT NOT NULL,
        created_at         TEXT NOT NULL,
        signs_from         TEXT NOT NULL
      );
      CREATE TRIGGER upstream_signing_keys_no_update BEFORE UPDATE ON upstream_signing_keys
      BEGIN
        SELECT RAISE(ABORT, 'signing keys are immutable: rotate to a new key instead');
      END;
      CREATE TRIGGER upstream_signing_keys_no_delete BEFORE DELETE ON upstream_signing_keys
      BEGIN
        SELECT RAISE(ABORT, 'signing keys are immutable: rotate to a new key instead');
      END;
    `,
  },
  {
    version: 7,
    name: 'control plane: extension keys, webhooks',
    up: `
      -- Credentials for one extension's CI (graft keys create). Only the sha256 of a key is
      -- kept: keys are 256-bit random values, so a fast hash is as good as a slow one and a
      -- stolen registry file holds no usable key.
      CREATE TABLE extension_keys (
        id           TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 16),
        prefix       TEXT NOT NULL,
        hash         TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
        extension    TEXT NOT NULL REFERENCES extensions (name),
        scopes       TEXT NOT NULL CHECK (json_valid(scopes)),
        description  TEXT NOT NULL DEFAULT '',
        created_by   TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        expires_at   TEXT,
        last_used_at TEXT,
        revoked_at   TEXT,
        revoked_by   TEXT
      );
      CREATE INDEX extension_keys_by_extension ON extension_keys (extension, created_at);
      -- A revoked key stays revoked: nothing may bring it back.
      CREATE TRIGGER extension_keys_stay_revoked BEFORE UPDATE OF revoked_at ON extension_keys
      WHEN OLD.revoked_at IS NOT NULL
      BEGIN
        SELECT RAISE(ABORT, 'a revoked key stays revoked: create a new key instead');
      END;
      CREATE TRIGGER extension_keys_fixed BEFORE UPDATE OF id, prefix, hash, extension, scopes, created_by, created_at, expires_at ON extension_keys
      BEGIN
        SELECT RAISE(ABORT, 'a key cannot be changed: revoke it and create a new one');
      END;

      -- Signed webhooks: endpoints operators register, and the delivery queue (at least
      -- once: a delivery stays pending, with its next attempt, until an endpoint answers 2xx
      -- or its attempts run out), which is also the delivery log. The secret signs bodies,
      -- so it is kept as it is.
      CREATE TABLE webhooks (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        url         TEXT NOT NULL,
        events      TEXT NOT NULL CHECK (json_valid(events)),
        secret      TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created_by  TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        deleted_at  TEXT
      );
      CREATE TABLE webhook_deliveries (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        webhook_id       INTEGER NOT NULL REFERENCES webhooks (id),
        event_id         TEXT NOT NULL,
        event            TEXT NOT NULL,
        body             TEXT NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  TEXT,
        locked_until     TEXT,
        last_status_code INTEGER,
        last_error       TEXT,
        created_at       TEXT NOT NULL,
        delivered_at     TEXT
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
      CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
    `,
  },
  {
    version: 8,
    name: 'usage',
    up: `
      -- Operations seen in traffic (gateway/usage): one row per normalised signature.
      CREATE TABLE usage_operations (
        hash        TEXT PRIMARY KEY NOT NULL CHECK (length(hash) = 64),
        name        TEXT,
        signature   TEXT NOT NULL,
        coordinates TEXT NOT NULL CHECK (json_valid(coordinates)),
        first_seen  TEXT NOT NULL
      );
      -- Which operations touch a schema coordinate: what a check asks about a change.
      CREATE TABLE usage_coordinates (
        coordinate TEXT NOT NULL,
        operation  TEXT NOT NULL REFERENCES usage_operations (hash) ON DELETE CASCADE,
        PRIMARY KEY (coordinate, operation)
      ) WITHOUT ROWID;
      -- Counts per minute (minutes = 1), rolled up per hour (minutes = 60) once the hour is
      -- old; every process adds to the same row, so the store sums their counts.
      CREATE TABLE usage_counts (
        bucket         TEXT NOT NULL,
        minutes        INTEGER NOT NULL CHECK (minutes IN (1, 60)),
        operation      TEXT NOT NULL REFERENCES usage_operations (hash) ON DELETE CASCADE,
        client_name    TEXT NOT NULL,
        client_version TEXT NOT NULL,
        count          INTEGER NOT NULL CHECK (count > 0),
        PRIMARY KEY (bucket, minutes, operation, client_name, client_version)
      );
      CREATE INDEX usage_counts_by_operation ON usage_counts (operation, bucket);
    `,
  },
];

export const LATEST_SCHEMA_VERSION: number = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** Reads the highest applied version (0 for a new file). */
function appliedVersion(db: Database): number {
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as
    | { version: number | null }
    | undefined;
  return row?.version ?? 0;
}

function refuseNewerFile(fileVersion: number, codeVersion: number, file: string): never {
  throw schemaTooNew(`file ${file}`, fileVersion, codeVersion, { file, fileSchemaVersion: fileVersion });
}

export function checkMigrationOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    const previous = migrations[index - 1];
    if (!Number.isInteger(migration.version) || migration.version < 1 || (previous && migration.version <= previous.version)) {
      throw new Error(`Registry migrations must have increasing positive integer versions (at "${migration.name}").`);
    }
  });
}

/**
 * Brings the file up to the newest schema this code knows. Refuses a file written by
 * a newer Graft rather than guess what its extra tables mean. Returns the versions applied.
 */
export function applyMigrations(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  checkMigrationOrder(migrations);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const codeVersion = migrations.at(-1)?.version ?? 0;
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];

  for (const migration of migrations) {
    // IMMEDIATE takes the write lock first, so two processes opening the same file at
    // once cannot both apply a migration; the second re-reads the version and skips.
    const step = db.transaction(() => {
      const current = appliedVersion(db);
      if (current > codeVersion) refuseNewerFile(current, codeVersion, db.name);
      if (current >= migration.version) return;
      db.exec(migration.up);
      record.run(migration.version, migration.name, new Date().toISOString());
      applied.push(migration.version);
    });
    step.immediate();
  }

  // Also covers a file with no pending migration at all.
  const current = appliedVersion(db);
  if (current > codeVersion) refuseNewerFile(current, codeVersion, db.name);
  return applied;
}
