// JSON Schemas of the admin routes: fastify validates requests with them and
// @fastify/swagger turns them into /admin/openapi.json.
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

const members = {
  type: 'array',
  items: { type: 'object', properties: { extension: { type: 'string' }, version: { type: 'string' } } },
} as const;

const nameParam = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$' } },
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
        },
      },
      ...errors,
    },
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
    summary: 'The active supergraph (needs graft:admin)',
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
};
