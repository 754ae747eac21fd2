// Every error a client, an extension author or a CI pipeline can get from Graft
// has a stable code from this enum (DESIGN.md, decision 5). Codes are part of the
// public API: add new ones, never rename or reuse old ones.
import { GraphQLError } from 'graphql';

export enum GraftErrorCode {
  // Request and input problems
  BAD_REQUEST = 'BAD_REQUEST',
  MANIFEST_INVALID = 'MANIFEST_INVALID',
  SDL_INVALID = 'SDL_INVALID',
  VERSION_INVALID = 'VERSION_INVALID',
  VERSION_NOT_GREATER = 'VERSION_NOT_GREATER',
  VERSION_EXISTS = 'VERSION_EXISTS',
  EXTENSION_NAME_TAKEN = 'EXTENSION_NAME_TAKEN',
  EXTENSION_NOT_FOUND = 'EXTENSION_NOT_FOUND',
  VERSION_NOT_FOUND = 'VERSION_NOT_FOUND',
  NAME_MISMATCH = 'NAME_MISMATCH',
  NOT_FOUND = 'NOT_FOUND',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED = 'RATE_LIMITED',
  URL_NOT_ALLOWED = 'URL_NOT_ALLOWED',

  // Composition and the publish pipeline
  COMPOSITION_FAILED = 'COMPOSITION_FAILED',
  PUBLISH_REJECTED = 'PUBLISH_REJECTED',
  NO_SUPERGRAPH = 'NO_SUPERGRAPH',
  DEPRECATION_REQUIRED = 'DEPRECATION_REQUIRED',
  /** The schema lint policy (gateway config `lint`) found an error-level problem. */
  LINT_FAILED = 'LINT_FAILED',
  /** Another gateway process changed the registry while this change was being prepared (multi-process mode). */
  REGISTRY_CONFLICT = 'REGISTRY_CONFLICT',
  /** The registry database cannot be reached (PostgreSQL down): the gateway keeps serving its last good supergraph, writes wait. */
  REGISTRY_UNAVAILABLE = 'REGISTRY_UNAVAILABLE',
  /** The registry was migrated by a newer Graft than this one: refused at start, never downgraded. */
  REGISTRY_SCHEMA_TOO_NEW = 'REGISTRY_SCHEMA_TOO_NEW',

  // Registered operations and the safelist
  OPERATION_INVALID = 'OPERATION_INVALID',
  OPERATION_NOT_FOUND = 'OPERATION_NOT_FOUND',
  OPERATION_NOT_REGISTERED = 'OPERATION_NOT_REGISTERED',

  // Authentication and authorization
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  UNAUTHORIZED_FIELD_OR_TYPE = 'UNAUTHORIZED_FIELD_OR_TYPE',
  GRANT_NOT_ALLOWED = 'GRANT_NOT_ALLOWED',
  UNKNOWN_POLICY = 'UNKNOWN_POLICY',
  DEV_MODE_ONLY = 'DEV_MODE_ONLY',

  // Cost and query limits
  COST_ESTIMATED_TOO_EXPENSIVE = 'COST_ESTIMATED_TOO_EXPENSIVE',
  COST_ACTUAL_TOO_EXPENSIVE = 'COST_ACTUAL_TOO_EXPENSIVE',
  SLICING_ARGUMENT_REQUIRED = 'SLICING_ARGUMENT_REQUIRED',
  QUERY_TOO_DEEP = 'QUERY_TOO_DEEP',
  TOO_MANY_ALIASES = 'TOO_MANY_ALIASES',
  TOO_MANY_ROOT_FIELDS = 'TOO_MANY_ROOT_FIELDS',
  TOO_MANY_TOKENS = 'TOO_MANY_TOKENS',
  TOO_MANY_DIRECTIVES = 'TOO_MANY_DIRECTIVES',

  // Extensions at run time
  EXTENSION_TIMEOUT = 'EXTENSION_TIMEOUT',
  EXTENSION_UNAVAILABLE = 'EXTENSION_UNAVAILABLE',
  EXTENSION_CIRCUIT_OPEN = 'EXTENSION_CIRCUIT_OPEN',
  EXTENSION_PAUSED = 'EXTENSION_PAUSED',
  EXTENSION_DISABLED = 'EXTENSION_DISABLED',
  EXTENSION_BAD_RESPONSE = 'EXTENSION_BAD_RESPONSE',
  DIRECTIVE_FAILED = 'DIRECTIVE_FAILED',

  // Extension resolver directives at publish
  DIRECTIVE_INVALID = 'DIRECTIVE_INVALID',
  DIRECTIVE_NAME_TAKEN = 'DIRECTIVE_NAME_TAKEN',

  // Anything we did not foresee: never carries internals to the client.
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** HTTP status that the admin API answers with for each code. */
export const httpStatusOf: Record<GraftErrorCode, number> = {
  BAD_REQUEST: 400,
  MANIFEST_INVALID: 400,
  SDL_INVALID: 400,
  VERSION_INVALID: 400,
  VERSION_NOT_GREATER: 409,
  VERSION_EXISTS: 409,
  EXTENSION_NAME_TAKEN: 409,
  EXTENSION_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  NAME_MISMATCH: 400,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  URL_NOT_ALLOWED: 400,
  COMPOSITION_FAILED: 422,
  PUBLISH_REJECTED: 422,
  NO_SUPERGRAPH: 503,
  DEPRECATION_REQUIRED: 422,
  LINT_FAILED: 422,
  REGISTRY_CONFLICT: 409,
  REGISTRY_UNAVAILABLE: 503,
  REGISTRY_SCHEMA_TOO_NEW: 500,
  OPERATION_INVALID: 400,
  OPERATION_NOT_FOUND: 404,
  OPERATION_NOT_REGISTERED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  UNAUTHORIZED_FIELD_OR_TYPE: 403,
  GRANT_NOT_ALLOWED: 403,
  UNKNOWN_POLICY: 422,
  DEV_MODE_ONLY: 403,
  COST_ESTIMATED_TOO_EXPENSIVE: 400,
  COST_ACTUAL_TOO_EXPENSIVE: 400,
  SLICING_ARGUMENT_REQUIRED: 400,
  QUERY_TOO_DEEP: 400,
  TOO_MANY_ALIASES: 400,
  TOO_MANY_ROOT_FIELDS: 400,
  TOO_MANY_TOKENS: 400,
  TOO_MANY_DIRECTIVES: 400,
  EXTENSION_TIMEOUT: 504,
  EXTENSION_UNAVAILABLE: 502,
  EXTENSION_CIRCUIT_OPEN: 503,
  EXTENSION_PAUSED: 503,
  EXTENSION_DISABLED: 403,
  EXTENSION_BAD_RESPONSE: 502,
  DIRECTIVE_FAILED: 500,
  DIRECTIVE_INVALID: 400,
  DIRECTIVE_NAME_TAKEN: 409,
  INTERNAL_SERVER_ERROR: 500,
};

/**
 * The one error class of Graft. `message` says what to do about it; `details`
 * carries machine-readable specifics (composition errors, the field path, ...).
 * `extension` names the extension at fault when there is one.
 */
export class GraftError extends Error {
  readonly code: GraftErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly extension: string | undefined;

  constructor(
    code: GraftErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; extension?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GraftError';
    this.code = code;
    this.details = options.details;
    this.extension = options.extension;
  }

  get httpStatus(): number {
    return httpStatusOf[this.code];
  }

  /** The JSON body the admin API answers with. Never includes a stack. */
  toJSON(): { code: GraftErrorCode; message: string; extension?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.extension === undefined ? {} : { extension: this.extension }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }

  /** The same error as GraphQL clients see it. */
  toGraphQLError(path?: ReadonlyArray<string | number>): GraphQLError {
    return new GraphQLError(this.message, {
      path,
      extensions: {
        code: this.code,
        ...(this.extension === undefined ? {} : { extension: this.extension }),
        ...this.details,
      },
    });
  }
}

export function isGraftError(error: unknown): error is GraftError {
  return error instanceof GraftError;
}
