// JSON Schemas of the admin routes: fastify validates requests with them and
// @fastify/swagger turns them into /admin/openapi.json.
import { EXTENSION_NAME_PATTERN } from '../manifest/index.js';

const errorBody = {
  type: 'object',
  description: 'Every admin error: a stable code (GraftErrorCode) and a message that says what to do.',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    extension: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

const members = {
  type: 'array',
  items: { type: 'object', properties: { extension: { type: 'string' }, version: { type: 'string' } } },
} as const;

const extensionRecord = {
  type: 'object',
  required: ['name', 'owner', 'description', 'status', 'createdAt', 'updatedAt'],
  properties: {
    name: { type: 'string' },
    owner: { type: 'string' },
    description: { type: 'string' },
    status: { type: 'string', enum: ['active', 'paused', 'retired'] },
    activeVersion: { type: 'string', nullable: true },
    tenants: { type: 'array', nullable: true, items: { type: 'string' }, description: 'Tenants it is enabled for; null: every tenant' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const versionSummary = {
  type: 'object',
  required: ['extension', 'version', 'publishedBy', 'publishedAt', 'supergraphId'],
  properties: {
    extension: { type: 'string' },
    version: { type: 'string' },
    publishedBy: { type: 'string' },
    publishedAt: { type: 'string', format: 'date-time' },
    supergraphId: { type: 'integer' },
  },
} as const;

const versionRecord = {
  ...versionSummary,
  required: [...versionSummary.required, 'manifest', 'sdl'],
  properties: {
    ...versionSummary.properties,
    manifest: { type: 'object', additionalProperties: true, description: 'graft.json as published (see schema/manifest.schema.json)' },
    sdl: { type: 'string' },
    report: { type: 'object', additionalProperties: true, description: 'The change report stored with the version (absent for versions published before reports were stored)' },
  },
} as const;

const releaseRecord = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    supergraphId: { type: 'integer' },
    actor: { type: 'string' },
    reason: { type: 'string' },
    members,
    retired: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const schemaChange = {
  type: 'object',
  properties: {
    level: { type: 'string', enum: ['subgraph', 'api'] },
    subgraph: { type: 'string' },
    type: { type: 'string' },
    criticality: { type: 'string', enum: ['breaking', 'dangerous', 'safe'] },
    path: { type: 'string' },
    message: { type: 'string' },
    reason: { type: 'string' },
  },
} as const;

const removal = {
  type: 'object',
  properties: {
    coordinate: { type: 'string' },
    kind: { type: 'string' },
    deprecatedSince: { type: 'string', nullable: true },
    deprecatedInVersion: { type: 'string', nullable: true },
    earliestRemoval: { type: 'string', nullable: true },
    neverDeprecated: { type: 'boolean' },
    allowed: { type: 'boolean' },
  },
} as const;

const deprecation = {
  type: 'object',
  properties: {
    coordinate: { type: 'string' },
    reason: { type: 'string', nullable: true },
    deprecatedSince: { type: 'string' },
    deprecatedInVersion: { type: 'string' },
    earliestRemoval: { type: 'string', description: 'deprecatedSince + the deprecation period (GRAFT_DEPRECATION_DAYS)' },
  },
} as const;

const changelog = {
  type: 'object',
  properties: {
    extension: { type: 'string' },
    deprecationDays: { type: 'integer' },
    pendingRemovals: { type: 'array', items: deprecation, description: 'What the latest version deprecates, and from when each may be removed' },
    entries: {
      type: 'array',
      description: 'Newest first',
      items: {
        type: 'object',
        properties: {
          version: { type: 'string' },
          publishedAt: { type: 'string' },
          publishedBy: { type: 'string' },
          previousVersion: { type: 'string', nullable: true },
          bump: { type: 'string', nullable: true },
          verdict: { type: 'string', nullable: true },
          changes: {
            type: 'object',
            properties: {
              breaking: { type: 'array', items: schemaChange },
              dangerous: { type: 'array', items: schemaChange },
              safe: { type: 'array', items: schemaChange },
            },
          },
          affectedOperations: { type: 'array', items: { type: 'string' } },
          removals: { type: 'array', items: removal },
          deprecations: { type: 'array', items: deprecation },
          forced: {
            type: 'object',
            nullable: true,
            properties: {
              by: { type: 'string' },
              reason: { type: 'string' },
              overrode: {
                type: 'object',
                properties: { removals: { type: 'array', items: removal }, operations: { type: 'array', items: { type: 'string' } } },
              },
            },
          },
          notes: { type: 'array', items: { type: 'string' } },
          release: {
            type: 'object',
            nullable: true,
            description: 'The release this version came in, when other versions were published or extensions retired with it; null for a publish of one',
            properties: { id: { type: 'integer' }, reason: { type: 'string', nullable: true }, members, retired: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
    },
  },
} as const;

const operationName = { type: 'string', pattern: '^[_A-Za-z][_0-9A-Za-z]{0,127}$' } as const;

const registeredOperation = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    document: { type: 'string' },
    hash: { type: 'string', description: 'sha256 (hex) of document exactly: send it as extensions.persistedQuery.sha256Hash' },
    normalizedHash: { type: 'string', description: 'sha256 (hex) of the document as graphql-js prints it' },
    client: { type: 'string' },
    registeredBy: { type: 'string' },
    registeredAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const healthRecord = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    state: { type: 'string', enum: ['healthy', 'unhealthy', 'unknown'] },
    lastCheckedAt: { type: 'string', nullable: true },
    lastHealthyAt: { type: 'string', nullable: true },
    consecutiveFailures: { type: 'integer' },
    latencyMs: { type: 'number', nullable: true },
    error: { type: 'string' },
    drift: {
      type: 'object',
      properties: { detected: { type: 'boolean' }, checkedAt: { type: 'string', nullable: true }, summary: { type: 'string' } },
    },
  },
} as const;

const nameParam = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: EXTENSION_NAME_PATTERN } },
} as const;

const errors = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
  409: errorBody,
  413: errorBody,
  422: errorBody,
  429: errorBody,
  500: errorBody,
} as const;

const security = [{ bearer: [] }];

const keyRecord = {
  type: 'object',
  required: ['id', 'prefix', 'extension', 'scopes', 'createdAt'],
  properties: {
    id: { type: 'string' },
    prefix: { type: 'string', description: 'The first characters of the key, to recognise it (graft_<id>)' },
    extension: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string', enum: ['check', 'publish'] } },
    description: { type: 'string' },
    createdBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time', nullable: true },
    lastUsedAt: { type: 'string', format: 'date-time', nullable: true },
    revokedAt: { type: 'string', format: 'date-time', nullable: true },
    revokedBy: { type: 'string', nullable: true },
  },
} as const;

const webhookRecord = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string' } },
    description: { type: 'string' },
    createdBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const webhookIdParam = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

const keyList = { type: 'object', properties: { keys: { type: 'array', items: keyRecord } } } as const;

export const adminSchemas = {
  listExtensions: {
    summary: 'List extensions (all for graft:admin; your own for graft:publish:<name>)',
    tags: ['extensions'],
    security,
    response: { 200: { type: 'object', properties: { extensions: { type: 'array', items: extensionRecord } } }, ...errors },
  },
  registerExtension: {
    summary: 'Register an extension (no version yet)',
    tags: ['extensions'],
    security,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'owner'],
      properties: {
        name: nameParam.properties.name,
        owner: { type: 'string', minLength: 1, maxLength: 200 },
        description: { type: 'string', maxLength: 2000 },
      },
    },
    response: { 201: extensionRecord, ...errors },
  },
  getExtension: {
    summary: 'Get an extension and its versions',
    tags: ['extensions'],
    security,
    params: nameParam,
    response: {
      200: { ...extensionRecord, properties: { ...extensionRecord.properties, versions: { type: 'array', items: versionSummary } } },
      ...errors,
    },
  },
  listVersions: {
    summary: "List an extension's versions, newest first",
    tags: ['versions'],
    security,
    params: nameParam,
    response: { 200: { type: 'object', properties: { versions: { type: 'array', items: versionSummary } } }, ...errors },
  },
  getVersion: {
    summary: 'Get one published version with its manifest and SDL',
    tags: ['versions'],
    security,
    params: { type: 'object', required: ['name', 'version'], properties: { name: nameParam.properties.name, version: { type: 'string', maxLength: 256 } } },
    response: { 200: versionRecord, ...errors },
  },
  publishVersion: {
    summary: 'Publish a version: validate, compose with the active extensions, store, and swap the supergraph',
    description:
      'Refused with 422 COMPOSITION_FAILED (the composition errors in details.compositionErrors) when the version does not compose; the current supergraph keeps serving.',
    tags: ['versions'],
    security,
    params: nameParam,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['manifest', 'sdl'],
      properties: {
        manifest: { type: 'object', additionalProperties: true, description: 'graft.json (validated against schema/manifest.schema.json)' },
        sdl: { type: 'string', description: 'The subgraph SDL (Federation 2)' },
        force: {
          type: 'object',
          additionalProperties: false,
          required: ['reason'],
          description:
            'graft:admin only: publish although the version removes what was not deprecated long enough or breaks registered operations; recorded in the audit log and the changelog. Never overrides the semver rule.',
          properties: { reason: { type: 'string', minLength: 1, maxLength: 2000 } },
        },
        directiveModules: {
          type: 'object',
          maxProperties: 50,
          additionalProperties: { type: 'string' },
          description:
            'Sources of the resolver directive modules the manifest declares (directives[].module), by that path; graft publish reads them next to graft.json. Checked in the sandbox and stored with the version.',
        },
      },
    },
    response: {
      201: {
        type: 'object',
        properties: {
          extension: extensionRecord,
          version: versionSummary,
          supergraph: {
            type: 'object',
            properties: { id: { type: 'integer' }, hash: { type: 'string' }, members, createdAt: { type: 'string' } },
          },
          hints: { type: 'array', items: { type: 'string' } },
          report: { type: 'object', additionalProperties: true, description: 'The change report stored with the version: verdict, changes, removals, deprecations, forced override' },
        },
      },
      ...errors,
    },
  },
  createRelease: {
    summary: 'Publish several extension versions together: composed with the rest of the active graph, stored and swapped together, all or none',
    description:
      'Extensions not registered yet are registered in the same transaction. Needs graft:admin, or graft:publish:<name> for every member. ' +
      'A refusal lists every finding of every member in details.findings ({ code, severity, extension, step, path?, message }); nothing is stored and the current supergraph keeps serving.',
    tags: ['versions'],
    security,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['extensions'],
      properties: {
        extensions: {
          type: 'array',
          maxItems: 100,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['manifest', 'sdl'],
            properties: {
              manifest: { type: 'object', additionalProperties: true, description: 'graft.json (validated against schema/manifest.schema.json)' },
              sdl: { type: 'string', description: 'The subgraph SDL (Federation 2)' },
              directiveModules: { type: 'object', maxProperties: 50, additionalProperties: { type: 'string' }, description: 'Sources of the resolver directive modules the manifest declares, by path' },
            },
          },
        },
        reason: { type: 'string', maxLength: 2000, description: 'Why: kept with the release and in the audit log' },
        force: {
          type: 'object',
          additionalProperties: false,
          required: ['reason'],
          description: 'graft:admin only: as for a publish of one, for every member',
          properties: { reason: { type: 'string', minLength: 1, maxLength: 2000 } },
        },
      },
    },
    response: {
      201: {
        type: 'object',
        properties: {
          release: releaseRecord,
          supergraph: { type: 'object', properties: { id: { type: 'integer' }, hash: { type: 'string' }, members, createdAt: { type: 'string' } } },
          versions: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                extension: extensionRecord,
                version: versionSummary,
                report: { type: 'object', additionalProperties: true, description: 'The change report stored with the version' },
              },
            },
          },
          retired: { type: 'array', items: extensionRecord },
          hints: { type: 'array', items: { type: 'string' } },
        },
      },
      ...errors,
    },
  },
  listReleases: {
    summary: 'Releases, newest first (all: graft:admin; with ?extension=<name>: its owner too)',
    tags: ['versions'],
    security,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { extension: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
    },
    response: { 200: { type: 'object', properties: { releases: { type: 'array', items: releaseRecord } } }, ...errors },
  },
  getChangelog: {
    summary: "An extension's changelog, newest version first: verdict, changes by criticality, forced overrides, deprecations and their earliest removal dates",
    tags: ['versions'],
    security,
    params: nameParam,
    response: { 200: changelog, ...errors },
  },
  listOperations: {
    summary: 'Registered operations: the usage frontends depend on (needs graft:admin, graft:publish:<name> or an extension key with scope check)',
    tags: ['operations'],
    security,
    response: { 200: { type: 'object', properties: { operations: { type: 'array', items: registeredOperation } } }, ...errors },
  },
  registerOperation: {
    summary: 'Register an operation, or replace the one of that name; it must validate against the API schema (needs graft:admin)',
    description:
      'A publish that breaks a registered operation is refused (PUBLISH_REJECTED) even on a new major version, unless an admin forces it. With GRAFT_SAFELIST=1 the gateway serves registered operations only.',
    tags: ['operations'],
    security,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'document'],
      properties: {
        name: operationName,
        document: { type: 'string', minLength: 1, maxLength: 200_000, description: 'One operation, named `name`, with the fragments it uses' },
        client: { type: 'string', minLength: 1, maxLength: 200, description: 'Which frontend uses it' },
      },
    },
    response: { 200: registeredOperation, 201: registeredOperation, ...errors },
  },
  deleteOperation: {
    summary: 'Unregister an operation (needs graft:admin)',
    tags: ['operations'],
    security,
    params: { type: 'object', required: ['name'], properties: { name: operationName } },
    response: { 200: registeredOperation, ...errors },
  },
  setStatus: (action: 'pause' | 'resume') => ({
    summary:
      action === 'pause'
        ? "Pause an extension: the schema stays, its fields answer EXTENSION_PAUSED without calling it"
        : 'Resume a paused extension',
    tags: ['extensions'],
    security,
    params: nameParam,
    response: { 200: extensionRecord, ...errors },
  }),
  getHealth: {
    summary: "An extension's active health check and drift (live _service SDL against the registered SDL)",
    tags: ['health'],
    security,
    params: nameParam,
    response: { 200: healthRecord, ...errors },
  },
  getStats: {
    summary: 'Per extension over the last minutes: fetches, error rate, p95 latency, circuit breaker (needs graft:admin)',
    tags: ['health'],
    security,
    response: {
      200: {
        type: 'object',
        required: ['windowSeconds', 'extensions'],
        properties: {
          windowSeconds: { type: 'integer' },
          extensions: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'requests', 'errorRate', 'p95Ms', 'breaker'],
              properties: {
                name: { type: 'string' },
                requests: { type: 'integer', description: 'Query-plan fetches from the extension in the window' },
                errorRate: { type: 'number', description: 'Share of those fetches that failed (0 to 1)' },
                p95Ms: { type: 'number', nullable: true, description: '95th percentile fetch duration; null without fetches' },
                breaker: { type: 'string', enum: ['closed', 'half-open', 'open', 'isolated'] },
              },
            },
          },
        },
      },
      ...errors,
    },
  },
  listHealth: {
    summary: 'Health and drift of every active extension (needs graft:admin)',
    tags: ['health'],
    security,
    response: { 200: { type: 'object', properties: { extensions: { type: 'array', items: healthRecord } } }, ...errors },
  },
  retire: {
    summary: 'Retire an extension: recompose without it (refused if others need its types) and swap',
    tags: ['extensions'],
    security,
    params: nameParam,
    response: {
      200: {
        type: 'object',
        properties: {
          extension: extensionRecord,
          supergraph: { type: 'object', properties: { id: { type: 'integer' }, hash: { type: 'string' }, members, createdAt: { type: 'string' } } },
        },
      },
      ...errors,
    },
  },
  setTenants: {
    summary: 'Enable an extension for some tenants only (null: every tenant); other tenants get EXTENSION_DISABLED on its fields',
    tags: ['extensions'],
    security,
    params: nameParam,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['tenants'],
      properties: { tenants: { type: 'array', nullable: true, maxItems: 10_000, items: { type: 'string', minLength: 1, maxLength: 200 } } },
    },
    response: { 200: extensionRecord, ...errors },
  },
  getSupergraph: {
    summary: 'The active supergraph (needs graft:admin, graft:publish:<name> or an extension key with scope check: graft check --registry reads it)',
    tags: ['supergraph'],
    security,
    response: {
      200: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          hash: { type: 'string' },
          members,
          createdAt: { type: 'string' },
          sdl: { type: 'string' },
          apiSdl: { type: 'string' },
          serving: { type: 'boolean' },
          knownPolicies: { type: 'array', items: { type: 'string' }, description: 'The @policy names the gateway config registers (what UNKNOWN_POLICY is judged against)' },
          deprecationDays: { type: 'integer', description: 'The deprecation period of the versioning rules (GRAFT_DEPRECATION_DAYS)' },
          lint: { type: 'object', additionalProperties: true, description: "The gateway's schema lint policy ({ rules }), which publish applies (LINT_FAILED)" },
          usage: {
            type: ['object', 'null'],
            description: 'The usage step of publish: its window (GRAFT_USAGE_DAYS) and strictness (GRAFT_USAGE_STRICT); null when GRAFT_USAGE=0',
            properties: { windowDays: { type: 'integer' }, strict: { type: 'boolean' } },
          },
        },
      },
      ...errors,
    },
  },
  getUsage: {
    summary: 'Operations seen in traffic in a window, per client, summed over every gateway process (needs graft:admin)',
    description: 'With coordinate, only the operations touching one of them (what graft check --registry asks about the changed coordinates).',
    tags: ['usage'],
    security,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        days: { type: 'integer', minimum: 1, maximum: 3650, default: 7 },
        coordinate: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 300 }, maxItems: 5000 },
        excludeClient: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, maxItems: 100 },
        minCount: { type: 'integer', minimum: 1, default: 1 },
      },
    },
    response: {
      200: {
        type: 'object',
        properties: {
          since: { type: 'string' },
          operations: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                hash: { type: 'string' },
                name: { type: ['string', 'null'] },
                signature: { type: 'string' },
                coordinates: { type: 'array', items: { type: 'string' } },
                count: { type: 'integer' },
                lastSeen: { type: 'string' },
                clients: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, count: { type: 'integer' } } } },
              },
            },
          },
        },
      },
      ...errors,
    },
  },
  listAudit: {
    summary: 'Audit events, newest first (needs graft:admin)',
    tags: ['audit'],
    security,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { extension: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
    },
    response: {
      200: {
        type: 'object',
        properties: {
          events: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'integer' },
                at: { type: 'string' },
                actor: { type: 'string' },
                action: { type: 'string' },
                extension: { type: 'string', nullable: true },
                details: { type: 'object', additionalProperties: true },
              },
            },
          },
        },
      },
      ...errors,
    },
  },
  createKey: {
    summary: 'Issue an extension key for CI (needs graft:admin); the secret is in this answer only',
    tags: ['keys'],
    security,
    params: nameParam,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['scopes'],
      properties: {
        scopes: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'string', enum: ['check', 'publish'] } },
        expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 },
        description: { type: 'string', maxLength: 500 },
      },
    },
    response: {
      201: {
        type: 'object',
        properties: { key: keyRecord, secret: { type: 'string', description: 'The key: shown once, stored only as a hash' } },
      },
      ...errors,
    },
  },
  listKeys: {
    summary: "An extension's keys, never their secrets (needs graft:admin)",
    tags: ['keys'],
    security,
    params: nameParam,
    response: { 200: keyList, ...errors },
  },
  listAllKeys: {
    summary: 'Every extension key, never their secrets (needs graft:admin)',
    tags: ['keys'],
    security,
    response: { 200: keyList, ...errors },
  },
  revokeKey: {
    summary: 'Revoke an extension key for good (needs graft:admin)',
    tags: ['keys'],
    security,
    params: { type: 'object', required: ['name', 'id'], properties: { name: nameParam.properties.name, id: { type: 'string', pattern: '^[0-9a-f]{16}$' } } },
    response: { 200: keyRecord, ...errors },
  },
  createWebhook: {
    summary: 'Register a webhook endpoint for control-plane events (needs graft:admin); the signing secret is in this answer only',
    tags: ['webhooks'],
    security,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'events'],
      properties: {
        url: { type: 'string', minLength: 1, maxLength: 2048 },
        events: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'string', maxLength: 100 } },
        description: { type: 'string', maxLength: 500 },
      },
    },
    response: { 201: { type: 'object', properties: { webhook: webhookRecord, secret: { type: 'string' } } }, ...errors },
  },
  listWebhooks: {
    summary: 'Webhook endpoints, never their secrets (needs graft:admin)',
    tags: ['webhooks'],
    security,
    response: { 200: { type: 'object', properties: { webhooks: { type: 'array', items: webhookRecord } } }, ...errors },
  },
  deleteWebhook: {
    summary: 'Remove a webhook endpoint; its queued deliveries are dropped, its delivery log stays (needs graft:admin)',
    tags: ['webhooks'],
    security,
    params: webhookIdParam,
    response: { 200: webhookRecord, ...errors },
  },
  listWebhookDeliveries: {
    summary: "A webhook's delivery log, newest first: every event, its attempts and their outcome (needs graft:admin)",
    tags: ['webhooks'],
    security,
    params: webhookIdParam,
    querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
    response: {
      200: {
        type: 'object',
        properties: {
          deliveries: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'integer' },
                webhookId: { type: 'integer' },
                eventId: { type: 'string' },
                event: { type: 'string' },
                body: { type: 'string' },
                status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
                attempts: { type: 'integer' },
                nextAttemptAt: { type: 'string', nullable: true },
                lastStatusCode: { type: 'integer', nullable: true },
                lastError: { type: 'string', nullable: true },
                createdAt: { type: 'string' },
                deliveredAt: { type: 'string', nullable: true },
              },
            },
          },
        },
      },
      ...errors,
    },
  },
};
