// The admin API under /admin: JSON over HTTP, described by the OpenAPI document at
// /admin/openapi.json (generated from the route schemas by @fastify/swagger, so the
// document and the validation can never disagree). Every route needs a JWT with
// `graft:admin`, or `graft:publish:<name>` for the owner of one extension, or an extension
// key (gateway/keys) that may check and/or publish its one extension.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ADMIN_SCOPE, bearerToken, publishScopeFor, type Principal, type TokenVerifier } from '../auth/index.js';
import type { SupergraphSnapshot } from '../engine/index.js';
import type { HealthMonitor } from '../health/index.js';
import type { StatsSnapshot } from '../telemetry/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { describeKeyRights, isExtensionKey, type ExtensionKeys } from '../keys/index.js';
import type { OperationRegistry } from '../operations/index.js';
import { type PublishResult, type RegistryService, type ReleaseMemberInput, type ReleaseResult } from '../publish/index.js';
import type { ExtensionKeyScope, ExtensionVersionRecord } from '../registry/index.js';
import type { WebhookDispatcher } from '../webhooks/index.js';
import { adminSchemas } from './schemas.js';

const PUBLISH_SCOPE_PREFIX = 'graft:publish:';

export interface AdminApiOptions {
  registry: RegistryService;
  verifier: TokenVerifier;
  /** Extension keys: issued under /admin/extensions/{name}/keys, accepted as bearer tokens. */
  keys: ExtensionKeys;
  /** Requests per minute one extension key may make, whatever they are. */
  keyRateLimitPerMinute: number;
  health: HealthMonitor;
  publishRateLimitPerMinute: number;
  currentSupergraph: () => SupergraphSnapshot | undefined;
  /** Registered operations (/admin/operations). */
  operations?: OperationRegistry;
  /** Per-extension requests, error rate, p95 and breaker over the last minutes (/admin/stats). */
  stats?: () => StatsSnapshot;
  /** Signed webhooks (/admin/webhooks). */
  webhooks?: WebhookDispatcher;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new GraftError(GraftErrorCode.UNAUTHENTICATED, 'Send "Authorization: Bearer <JWT>" with scope graft:admin.');
  return request.principal;
}

function isAdmin(principal: Principal): boolean {
  return principal.scopes.has(ADMIN_SCOPE);
}

/**
 * What a caller may do on one extension:
 * - read: its record, versions and releases;
 * - check: what `graft check --registry` reads (also the active graph of every extension);
 * - publish: versions and releases of it;
 * - manage: register, pause, resume, health, changelog.
 * graft:admin may do all of it on every extension, graft:publish:<name> all of it on <name>,
 * an extension key `read` plus its scopes on its own extension and nothing else.
 */
type ExtensionRight = 'read' | ExtensionKeyScope | 'manage';

function mayOn(principal: Principal, name: string, right: ExtensionRight): boolean {
  if (isAdmin(principal)) return true;
  const { key } = principal;
  if (key) return key.extension === name && (right === 'read' || (right !== 'manage' && key.scopes.includes(right)));
  return principal.scopes.has(publishScopeFor(name));
}

/** Whether the caller may run `graft check --registry` for some extension: read the active graph and the registered operations. */
function mayCheckGraph(principal: Principal): boolean {
  if (isAdmin(principal)) return true;
  if (principal.key) return principal.key.scopes.includes('check');
  return [...principal.scopes].some((scope) => scope.startsWith(PUBLISH_SCOPE_PREFIX));
}

/** The refusal, naming what the caller may do instead. */
function forbidden(principal: Principal, needs: string, extension?: string): GraftError {
  const { key } = principal;
  const message = key
    ? `Extension key ${key.prefix} may only ${describeKeyRights(key)} (and read what graft check --registry needs); this request needs ${needs}. Use a token with ${ADMIN_SCOPE} for it.`
    : `This needs ${needs}; the token has: ${[...principal.scopes].join(' ') || 'no scope'}.`;
  return new GraftError(GraftErrorCode.FORBIDDEN, message, extension === undefined ? {} : { extension });
}

function requireOn(principal: Principal, name: string, right: ExtensionRight): void {
  if (mayOn(principal, name, right)) return;
  const needs = principal.key && right !== 'manage' ? `a key allowed to ${right === 'read' ? 'check or publish' : right} extension "${name}"` : `scope ${ADMIN_SCOPE} or ${publishScopeFor(name)}`;
  throw forbidden(principal, needs, name);
}

function requireAdmin(principal: Principal): void {
  if (isAdmin(principal)) return;
  throw forbidden(principal, `scope ${ADMIN_SCOPE}`);
}

function requireCheckGraph(principal: Principal): void {
  if (mayCheckGraph(principal)) return;
  throw forbidden(principal, `scope ${ADMIN_SCOPE}, ${PUBLISH_SCOPE_PREFIX}<extension> or an extension key with scope check`);
}

function versionSummary(record: ExtensionVersionRecord): Omit<ExtensionVersionRecord, 'sdl' | 'manifest'> {
  const { sdl: _sdl, manifest: _manifest, ...summary } = record;
  return summary;
}

/** The answer to a release: the new supergraph and every version, each with its change report. */
function releaseBody(result: ReleaseResult) {
  return {
    release: result.release,
    supergraph: result.supergraph,
    versions: result.members.map((m) => ({ extension: m.extension, version: versionSummary(m.version), report: m.report })),
    retired: result.retired,
    hints: result.hints,
  };
}

function publishBody(result: PublishResult) {
  return { extension: result.extension, version: versionSummary(result.version), supergraph: result.supergraph, hints: result.hints, report: result.report };
}

/** The names a release's members give in their manifests (authorization runs before validation, which lists every bad member). */
function memberNames(extensions: readonly ReleaseMemberInput[]): string[] {
  return extensions.map((e) => (e.manifest as { name?: unknown } | null)?.name).filter((name): name is string => typeof name === 'string');
}

export async function adminApi(app: FastifyInstance, options: AdminApiOptions): Promise<void> {
  const { registry, verifier, keys } = options;

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public) return;
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      throw new GraftError(
        GraftErrorCode.UNAUTHENTICATED,
        'The admin API needs "Authorization: Bearer <token>": a JWT with scope graft:admin or graft:publish:<extension>, or an extension key.',
      );
    }
    request.principal = isExtensionKey(token) ? await keys.authenticate(token) : await verifier(token);
  });

  // Publishing composes the whole graph: a runaway CI loop must not monopolize the gateway.
  await app.register(rateLimit, { global: false });
  const publishRateLimit = {
    max: options.publishRateLimitPerMinute,
    timeWindow: '1 minute',
    hook: 'preHandler' as const,
    keyGenerator: (request: FastifyRequest) => request.principal?.subject ?? request.ip,
    errorResponseBuilder: (_request: FastifyRequest, context: { max: number; after: string }) =>
      new GraftError(GraftErrorCode.RATE_LIMITED, `Too many publishes: at most ${context.max} a minute per caller. Try again in ${context.after}.`),
  };
  // Every request made with one extension key counts against that key: a leaked key, or a
  // CI loop, is held to a small budget whatever it calls. createRateLimit (not rateLimit:
  // that one marks the request as limited, and the publish limit above would then skip it).
  const keyLimit = app.createRateLimit({
    max: options.keyRateLimitPerMinute,
    timeWindow: '1 minute',
    keyGenerator: (request: FastifyRequest) => `extension-key:${request.principal?.key?.id ?? ''}`,
  });
  app.addHook('preHandler', async (request) => {
    const key = request.principal?.key;
    if (!key) return;
    const limit = await keyLimit(request);
    if (!limit.isAllowed && limit.isExceeded) {
      throw new GraftError(
        GraftErrorCode.RATE_LIMITED,
        `Too many requests with extension key ${key.prefix}: at most ${limit.max} a minute per key. Try again in ${limit.ttlInSeconds} s.`,
      );
    }
  });

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  app.get('/extensions', { schema: adminSchemas.listExtensions }, async (request) => {
    const principal = principalOf(request);
    const all = await registry.listExtensions();
    const visible = all.filter((e) => mayOn(principal, e.name, 'read'));
    return { extensions: visible };
  });

  app.post<{ Body: { name: string; owner: string; description?: string } }>(
    '/extensions',
    { schema: adminSchemas.registerExtension },
    async (request, reply) => {
      const principal = principalOf(request);
      requireOn(principal, request.body.name, 'manage');
      const record = await registry.register(request.body, principal);
      return reply.code(201).send(record);
    },
  );

  app.get<{ Params: { name: string } }>('/extensions/:name', { schema: adminSchemas.getExtension }, async (request) => {
    requireOn(principalOf(request), request.params.name, 'read');
    const record = await registry.getExtension(request.params.name);
    const versions = (await registry.listVersions(record.name)).map(versionSummary);
    return { ...record, versions };
  });

  app.get<{ Params: { name: string } }>('/extensions/:name/versions', { schema: adminSchemas.listVersions }, async (request) => {
    requireOn(principalOf(request), request.params.name, 'read');
    return { versions: (await registry.listVersions(request.params.name)).map(versionSummary) };
  });

  app.get<{ Params: { name: string; version: string } }>(
    '/extensions/:name/versions/:version',
    { schema: adminSchemas.getVersion },
    async (request) => {
      const { name, version } = request.params;
      const principal = principalOf(request);
      // graft check --registry composes against the active graph: whoever may check some
      // extension may read the versions it is made of, and no other version of another extension.
      if (!mayOn(principal, name, 'read')) {
        const active = mayCheckGraph(principal) ? await registry.getActiveSupergraph() : undefined;
        if (!active?.members.some((m) => m.extension === name && m.version === version)) requireOn(principal, name, 'read');
      }
      return registry.getVersion(name, version);
    },
  );

  app.post<{ Params: { name: string }; Body: { manifest: unknown; sdl: string; force?: { reason: string }; directiveModules?: Record<string, string> } }>(
    '/extensions/:name/versions',
    { schema: adminSchemas.publishVersion, config: { rateLimit: publishRateLimit } },
    async (request, reply) => {
      const principal = principalOf(request);
      const { name } = request.params;
      requireOn(principal, name, 'publish');
      const { force, directiveModules } = request.body;
      const result = await registry.publish(
        { manifest: request.body.manifest, sdl: request.body.sdl, expectedName: name, ...(force ? { force } : {}), ...(directiveModules ? { directiveModules } : {}) },
        principal,
      );
      return reply.code(201).send(publishBody(result));
    },
  );

  // A release: several extension versions composed, stored and swapped together, all or
  // none; extensions not registered yet are registered in the same transaction.
  app.post<{ Body: { extensions: ReleaseMemberInput[]; reason?: string; force?: { reason: string } } }>(
    '/releases',
    { schema: adminSchemas.createRelease, config: { rateLimit: publishRateLimit } },
    async (request, reply) => {
      const principal = principalOf(request);
      const { extensions, reason, force } = request.body;
      if (extensions.length === 0) {
        throw new GraftError(GraftErrorCode.BAD_REQUEST, 'The release is empty: send at least one extension ("extensions": [{ "manifest", "sdl" }]).');
      }
      const names = memberNames(extensions);
      const twice = names.find((name, i) => names.indexOf(name) !== i);
      if (twice !== undefined) {
        throw new GraftError(GraftErrorCode.BAD_REQUEST, `Extension "${twice}" appears more than once in the release: send each extension once.`, { extension: twice });
      }
      // graft:publish:<name> for every member (which is also who may register a new one).
      for (const name of names) requireOn(principal, name, 'publish');
      if (!isAdmin(principal) && names.length < extensions.length) {
        throw new GraftError(GraftErrorCode.FORBIDDEN, `Every member of a release needs a manifest naming its extension, so that the caller's scopes can be checked; the token has: ${[...principal.scopes].join(' ') || 'no scope'}.`);
      }
      const result = await registry.release({ extensions, registerMissing: true, ...(reason ? { reason } : {}), ...(force ? { force } : {}) }, principal);
      return reply.code(201).send(releaseBody(result));
    },
  );

  app.get<{ Querystring: { extension?: string; limit?: number } }>('/releases', { schema: adminSchemas.listReleases }, async (request) => {
    const principal = principalOf(request);
    const { extension, limit } = request.query;
    if (extension === undefined) requireAdmin(principal);
    else requireOn(principal, extension, 'read');
    return { releases: await registry.listReleases({ limit: limit ?? 100, ...(extension === undefined ? {} : { extension }) }) };
  });

  for (const [action, status] of [['pause', 'paused'], ['resume', 'active']] as const) {
    app.post<{ Params: { name: string } }>(`/extensions/:name/${action}`, { schema: adminSchemas.setStatus(action) }, async (request) => {
      const principal = principalOf(request);
      requireOn(principal, request.params.name, 'manage');
      return registry.setStatus(request.params.name, status, principal);
    });
  }

  app.post<{ Params: { name: string } }>('/extensions/:name/retire', { schema: adminSchemas.retire }, async (request) => {
    const principal = principalOf(request);
    requireAdmin(principal);
    return registry.retire(request.params.name, principal);
  });

  app.put<{ Params: { name: string }; Body: { tenants: string[] | null } }>(
    '/extensions/:name/tenants',
    { schema: adminSchemas.setTenants },
    async (request) => {
      const principal = principalOf(request);
      // Which tenants see an extension is the platform's decision, not the extension owner's.
      requireAdmin(principal);
      return registry.setTenants(request.params.name, request.body.tenants, principal);
    },
  );

  app.get<{ Params: { name: string } }>('/extensions/:name/health', { schema: adminSchemas.getHealth }, async (request) => {
    requireOn(principalOf(request), request.params.name, 'manage');
    await registry.getExtension(request.params.name);
    return options.health.status(request.params.name);
  });

  const { stats } = options;
  if (stats) {
    app.get('/stats', { schema: adminSchemas.getStats }, async (request) => {
      requireAdmin(principalOf(request));
      return stats();
    });
  }

  app.get('/health', { schema: adminSchemas.listHealth }, async (request) => {
    requireAdmin(principalOf(request));
    return { extensions: options.health.statuses() };
  });

  app.get('/supergraph', { schema: adminSchemas.getSupergraph }, async (request) => {
    requireCheckGraph(principalOf(request));
    const stored = await registry.getActiveSupergraph();
    if (!stored) throw new GraftError(GraftErrorCode.NO_SUPERGRAPH, 'No extension has been published yet: publish one with graft publish.');
    const serving = options.currentSupergraph();
    // The @policy names, the deprecation period, the lint policy and the usage settings let `graft check --registry` judge as publish does.
    return { ...stored, serving: serving?.id === stored.id, knownPolicies: registry.knownPolicies, deprecationDays: registry.deprecationDays, lint: registry.lintConfig, usage: registry.usageSettings ?? null };
  });

  app.get<{ Querystring: { days: number; coordinate?: string[]; excludeClient?: string[]; minCount: number } }>('/usage', { schema: adminSchemas.getUsage }, async (request) => {
    requireAdmin(principalOf(request));
    const { days, coordinate, excludeClient, minCount } = request.query;
    const since = new Date(Date.now() - days * 24 * 60 * 60 * 1000).toISOString();
    const operations = await registry.queryUsage({ since, ...(coordinate ? { coordinates: coordinate } : {}), excludeClients: excludeClient ?? [] });
    return { since, operations: operations.filter((o) => o.count >= minCount) };
  });

  app.get<{ Params: { name: string } }>('/extensions/:name/changelog', { schema: adminSchemas.getChangelog }, async (request) => {
    requireOn(principalOf(request), request.params.name, 'manage');
    return registry.changelog(request.params.name);
  });

  const { operations } = options;
  if (operations) {
    app.get('/operations', { schema: adminSchemas.listOperations }, async (request) => {
      // graft check --registry judges a change against the operations frontends depend on.
      requireCheckGraph(principalOf(request));
      return { operations: operations.list() };
    });

    app.post<{ Body: { name: string; document: string; client?: string } }>('/operations', { schema: adminSchemas.registerOperation }, async (request, reply) => {
      const principal = principalOf(request);
      requireAdmin(principal);
      const { name, document, client } = request.body;
      const result = await operations.register({ name, document, client }, principal.subject);
      return reply.code(result.created ? 201 : 200).send(result.operation);
    });

    app.delete<{ Params: { name: string } }>('/operations/:name', { schema: adminSchemas.deleteOperation }, async (request) => {
      const principal = principalOf(request);
      requireAdmin(principal);
      return operations.remove(request.params.name, principal.subject);
    });
  }

  // Extension keys: issued and revoked by operators only; the secret is in the answer to
  // the creation alone.
  app.post<{ Params: { name: string }; Body: { scopes: ExtensionKeyScope[]; expiresInDays?: number; description?: string } }>(
    '/extensions/:name/keys',
    { schema: adminSchemas.createKey },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAdmin(principal);
      const { scopes, expiresInDays, description } = request.body;
      const created = await keys.create(
        { extension: request.params.name, scopes, ...(expiresInDays === undefined ? {} : { expiresInDays }), ...(description === undefined ? {} : { description }) },
        principal.subject,
      );
      return reply.code(201).send(created);
    },
  );

  app.get<{ Params: { name: string } }>('/extensions/:name/keys', { schema: adminSchemas.listKeys }, async (request) => {
    requireAdmin(principalOf(request));
    await registry.getExtension(request.params.name);
    return { keys: await keys.list(request.params.name) };
  });

  app.get('/keys', { schema: adminSchemas.listAllKeys }, async (request) => {
    requireAdmin(principalOf(request));
    return { keys: await keys.list() };
  });

  app.post<{ Params: { name: string; id: string } }>('/extensions/:name/keys/:id/revoke', { schema: adminSchemas.revokeKey }, async (request) => {
    const principal = principalOf(request);
    requireAdmin(principal);
    return keys.revoke(request.params.name, request.params.id, principal.subject);
  });

  const { webhooks } = options;
  if (webhooks) {
    app.post<{ Body: { url: string; events: string[]; description?: string } }>('/webhooks', { schema: adminSchemas.createWebhook }, async (request, reply) => {
      const principal = principalOf(request);
      requireAdmin(principal);
      return reply.code(201).send(await webhooks.register(request.body, principal.subject));
    });

    app.get('/webhooks', { schema: adminSchemas.listWebhooks }, async (request) => {
      requireAdmin(principalOf(request));
      return { webhooks: await webhooks.list() };
    });

    app.delete<{ Params: { id: number } }>('/webhooks/:id', { schema: adminSchemas.deleteWebhook }, async (request) => {
      const principal = principalOf(request);
      requireAdmin(principal);
      return webhooks.delete(request.params.id, principal.subject);
    });

    app.get<{ Params: { id: number }; Querystring: { limit?: number } }>('/webhooks/:id/deliveries', { schema: adminSchemas.listWebhookDeliveries }, async (request) => {
      requireAdmin(principalOf(request));
      const { id } = request.params;
      if (!(await webhooks.list()).some((w) => w.id === id)) throw new GraftError(GraftErrorCode.NOT_FOUND, `There is no webhook ${id}: GET /admin/webhooks lists them.`);
      return { deliveries: await webhooks.deliveries(id, request.query.limit ?? 100) };
    });
  }

  app.get<{ Querystring: { extension?: string; limit?: number } }>('/audit', { schema: adminSchemas.listAudit }, async (request) => {
    requireAdmin(principalOf(request));
    const { extension, limit } = request.query;
    return {
      events: await registry.listAuditEvents({ limit: limit ?? 100, ...(extension === undefined ? {} : { extension }) }),
    };
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that need no token (the OpenAPI document). */
    public?: boolean;
  }
}
