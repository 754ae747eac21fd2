// The admin API under /admin: JSON over HTTP, described by the OpenAPI document at
// /admin/openapi.json (generated from the route schemas by @fastify/swagger, so the
// document and the validation can never disagree). Every route needs a JWT with
// `graft:admin`, or `graft:publish:<name>` for the owner of one extension.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ADMIN_SCOPE, bearerToken, publishScopeFor, type Principal, type TokenVerifier } from '../auth/index.js';
import type { SupergraphSnapshot } from '../engine/index.js';
import type { HealthMonitor } from '../health/index.js';
import type { StatsSnapshot } from '../telemetry/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { OperationRegistry } from '../operations/index.js';
import type { RegistryService } from '../publish/index.js';
import type { ExtensionRecord, ExtensionVersionRecord } from '../registry/index.js';
import { adminSchemas } from './schemas.js';


export interface AdminApiOptions {
  registry: RegistryService;
  verifier: TokenVerifier;
  health: HealthMonitor;
  publishRateLimitPerMinute: number;
  currentSupergraph: () => SupergraphSnapshot | undefined;
  /** Registered operations (/admin/operations). */
  operations?: OperationRegistry;
  /** Per-extension requests, error rate, p95 and breaker over the last minutes (/admin/stats). */
  stats?: () => StatsSnapshot;
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

/** Admins may act on every extension; an owner only on the ones it holds graft:publish:<name> for. */
function requireExtensionScope(principal: Principal, name: string): void {
  if (isAdmin(principal) || principal.scopes.has(publishScopeFor(name))) return;
  throw new GraftError(
    GraftErrorCode.FORBIDDEN,
    `This needs scope ${ADMIN_SCOPE} or ${publishScopeFor(name)}; the token has: ${[...principal.scopes].join(' ') || 'no scope'}.`,
    { extension: name },
  );
}

function requireAdmin(principal: Principal): void {
  if (isAdmin(principal)) return;
  throw new GraftError(GraftErrorCode.FORBIDDEN, `This needs scope ${ADMIN_SCOPE}.`);
}

function versionSummary(record: ExtensionVersionRecord): Omit<ExtensionVersionRecord, 'sdl' | 'manifest'> {
  const { sdl: _sdl, manifest: _manifest, ...summary } = record;
  return summary;
}

export async function adminApi(app: FastifyInstance, options: AdminApiOptions): Promise<void> {
  const { registry, verifier } = options;
  const store = registry.store;

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public) return;
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      throw new GraftError(GraftErrorCode.UNAUTHENTICATED, 'The admin API needs "Authorization: Bearer <JWT>" with scope graft:admin or graft:publish:<extension>.');
    }
    request.principal = await verifier(token);
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

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  app.get('/extensions', { schema: adminSchemas.listExtensions }, async (request) => {
    const principal = principalOf(request);
    const all = await store.listExtensions();
    const visible = isAdmin(principal) ? all : all.filter((e) => principal.scopes.has(publishScopeFor(e.name)));
    return { extensions: visible };
  });

  app.post<{ Body: { name: string; owner: string; description?: string } }>(
    '/extensions',
    { schema: adminSchemas.registerExtension },
    async (request, reply) => {
      const principal = principalOf(request);
      requireExtensionScope(principal, request.body.name);
      const record = await registry.register(request.body, principal);
      return reply.code(201).send(record);
    },
  );

  async function existing(name: string): Promise<ExtensionRecord> {
    const record = await store.getExtension(name);
    if (!record) {
      throw new GraftError(GraftErrorCode.EXTENSION_NOT_FOUND, `There is no extension "${name}": check the name (GET /admin/extensions lists them).`, { extension: name });
    }
    return record;
  }

  app.get<{ Params: { name: string } }>('/extensions/:name', { schema: adminSchemas.getExtension }, async (request) => {
    requireExtensionScope(principalOf(request), request.params.name);
    const record = await existing(request.params.name);
    const versions = (await store.listVersions(record.name)).map(versionSummary);
    return { ...record, versions };
  });

  app.get<{ Params: { name: string } }>('/extensions/:name/versions', { schema: adminSchemas.listVersions }, async (request) => {
    requireExtensionScope(principalOf(request), request.params.name);
    await existing(request.params.name);
    return { versions: (await store.listVersions(request.params.name)).map(versionSummary) };
  });

  app.get<{ Params: { name: string; version: string } }>(
    '/extensions/:name/versions/:version',
    { schema: adminSchemas.getVersion },
    async (request) => {
      const { name, version } = request.params;
      requireExtensionScope(principalOf(request), name);
      await existing(name);
      const record = await store.getVersion(name, version);
      if (!record) {
        throw new GraftError(GraftErrorCode.VERSION_NOT_FOUND, `Extension "${name}" has no version ${version}: GET /admin/extensions/${name}/versions lists them.`, { extension: name });
      }
      return record;
    },
  );

  app.post<{ Params: { name: string }; Body: { manifest: unknown; sdl: string; force?: { reason: string }; directiveModules?: Record<string, string> } }>(
    '/extensions/:name/versions',
    { schema: adminSchemas.publishVersion, config: { rateLimit: publishRateLimit } },
    async (request, reply) => {
      const principal = principalOf(request);
      const { name } = request.params;
      requireExtensionScope(principal, name);
      const { force, directiveModules } = request.body;
      const result = await registry.publish(
        { manifest: request.body.manifest, sdl: request.body.sdl, expectedName: name, ...(force ? { force } : {}), ...(directiveModules ? { directiveModules } : {}) },
        principal,
      );
      return reply.code(201).send({
        extension: result.extension,
        version: versionSummary(result.version),
        supergraph: result.supergraph,
        hints: result.hints,
        report: result.report,
      });
    },
  );

  for (const [action, status] of [['pause', 'paused'], ['resume', 'active']] as const) {
    app.post<{ Params: { name: string } }>(`/extensions/:name/${action}`, { schema: adminSchemas.setStatus(action) }, async (request) => {
      const principal = principalOf(request);
      requireExtensionScope(principal, request.params.name);
      await existing(request.params.name);
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
      await existing(request.params.name);
      return registry.setTenants(request.params.name, request.body.tenants, principal);
    },
  );

  app.get<{ Params: { name: string } }>('/extensions/:name/health', { schema: adminSchemas.getHealth }, async (request) => {
    requireExtensionScope(principalOf(request), request.params.name);
    await existing(request.params.name);
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
    requireAdmin(principalOf(request));
    const stored = await store.getActiveSupergraph();
    if (!stored) throw new GraftError(GraftErrorCode.NO_SUPERGRAPH, 'No extension has been published yet: publish one with graft publish.');
    const serving = options.currentSupergraph();
    return { ...stored, serving: serving?.id === stored.id };
  });

  app.get<{ Params: { name: string } }>('/extensions/:name/changelog', { schema: adminSchemas.getChangelog }, async (request) => {
    requireExtensionScope(principalOf(request), request.params.name);
    return registry.changelog(request.params.name);
  });

  const { operations } = options;
  if (operations) {
    app.get('/operations', { schema: adminSchemas.listOperations }, async (request) => {
      requireAdmin(principalOf(request));
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

  app.get<{ Querystring: { extension?: string; limit?: number } }>('/audit', { schema: adminSchemas.listAudit }, async (request) => {
    requireAdmin(principalOf(request));
    const { extension, limit } = request.query;
    return {
      events: await store.listAuditEvents({ limit: limit ?? 100, ...(extension === undefined ? {} : { extension }) }),
    };
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that need no token (the OpenAPI document). */
    public?: boolean;
  }
}
