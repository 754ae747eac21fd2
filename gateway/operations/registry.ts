// Registered operations: the usage frontends depend on. Stored in the registry
// (registered_operations, migration 3), indexed here in memory for the safelist, which
// looks an operation up on every request. Each registered operation is one named operation
// with the fragments it uses; its name is the document's operation name.
import { createHash } from 'node:crypto';
import { GraphQLError, Kind, parse, print, validate, type DocumentNode, type GraphQLSchema, type ParseOptions } from 'graphql';
import { loadOperationDir, parseOperations } from '../checks/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { RegisteredOperationRecord, RegistryStore } from '../registry/index.js';

export type RegisteredOperation = RegisteredOperationRecord;

export const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,127}$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash of a document's canonical form: layout and comments do not change it. */
export function normalizedHashOf(document: DocumentNode): string {
  return sha256Hex(print(document));
}

export interface OperationRegistryOptions {
  store: RegistryStore;
  /** The API schema the gateway serves now (undefined before the first publish). */
  apiSchema: () => GraphQLSchema | undefined;
  /** The gateway's parse limits (GRAFT_MAX_TOKENS), applied to registered and requested documents alike. */
  parseOptions?: ParseOptions;
}

export interface DirectoryRegistration {
  registered: string[];
  unchanged: string[];
  skipped: Array<{ name: string; file: string; reason: string }>;
}

function invalid(name: string, message: string, details: Record<string, unknown> = {}): GraftError {
  return new GraftError(GraftErrorCode.OPERATION_INVALID, message, { details: { operation: name, ...details } });
}

export class OperationRegistry {
  readonly #store: RegistryStore;
  readonly #apiSchema: () => GraphQLSchema | undefined;
  readonly parseOptions: ParseOptions | undefined;
  #byName = new Map<string, RegisteredOperation>();
  #byHash = new Map<string, RegisteredOperation>();
  #byNormalizedHash = new Map<string, RegisteredOperation>();
  #generation = 0;

  constructor(options: OperationRegistryOptions) {
    this.#store = options.store;
    this.#apiSchema = options.apiSchema;
    this.parseOptions = options.parseOptions;
  }

  /** Reads every registered operation from the store (at start, and after each change). */
  async load(): Promise<void> {
    const all = await this.#store.listOperations();
    this.#byName = new Map(all.map((o) => [o.name, o]));
    this.#byHash = new Map(all.map((o) => [o.hash, o]));
    this.#byNormalizedHash = new Map(all.map((o) => [o.normalizedHash, o]));
    this.#generation += 1;
  }

  /** Changes whenever the set of registered operations changes (caches key on it). */
  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#byName.size;
  }

  list(): RegisteredOperation[] {
    return [...this.#byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  byName(name: string): RegisteredOperation | undefined {
    return this.#byName.get(name);
  }

  /** By the sha256 of the document exactly as registered (the persisted-query id). */
  byHash(hash: string): RegisteredOperation | undefined {
    return this.#byHash.get(hash);
  }

  byNormalizedHash(hash: string): RegisteredOperation | undefined {
    return this.#byNormalizedHash.get(hash);
  }

  /**
   * Checks a document before registration: it parses, holds exactly one operation, named
   * `name`, and fragments only, and (when `schema` is given) validates against it.
   */
  checkDocument(name: string, document: string, schema: GraphQLSchema | undefined): DocumentNode {
    if (!OPERATION_NAME.test(name)) throw invalid(name, `"${name}" is not an operation name: use a GraphQL name (letters, digits and _, not starting with a digit).`);
    let parsed: DocumentNode;
    try {
      parsed = parse(document, this.parseOptions);
    } catch (error) {
      const location = error instanceof GraphQLError ? error.locations?.[0] : undefined;
      throw invalid(name, `The document of operation ${name} does not parse${location ? ` at line ${location.line}, column ${location.column}` : ''}: ${(error as Error).message.replace(/^Syntax Error: /, '')}`, {
        ...(location ? { line: location.line, column: location.column } : {}),
      });
    }
    const operations = parsed.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    if (operations.length !== 1) {
      throw invalid(name, `Register one operation per name: the document has ${operations.length} operations. Send each as its own { name, document }.`);
    }
    const operationName = operations[0]!.name?.value;
    if (operationName !== name) {
      throw invalid(
        name,
        operationName === undefined
          ? `The operation is anonymous: name it "${name}" in the document (query ${name} { ... }), so requests can refer to it by operationName.`
          : `The document's operation is named "${operationName}" but is registered as "${name}": use the same name in both.`,
      );
    }
    if (schema) {
      const errors = validate(schema, parsed);
      if (errors.length > 0) {
        throw invalid(name, `Operation ${name} does not validate against the API schema the gateway serves: ${errors.map((e) => e.message).join(' ')}`, {
          errors: errors.map((e) => ({ message: e.message, ...(e.locations?.[0] ? { line: e.locations[0].line, column: e.locations[0].column } : {}) })),
        });
      }
    }
    return parsed;
  }

  /**
   * Registers an operation or replaces the one of the same name. It must validate against
   * the API schema the gateway serves (NO_SUPERGRAPH before the first publish).
   */
  async register(input: { name: string; document: string; client?: string | undefined }, actor: string): Promise<{ operation: RegisteredOperation; created: boolean }> {
    const schema = this.#apiSchema();
    if (!schema) {
      throw new GraftError(GraftErrorCode.NO_SUPERGRAPH, 'No extension has been published yet, so there is no API schema to validate the operation against: publish one first.');
    }
    const parsed = this.checkDocument(input.name, input.document, schema);
    const result = await this.#store.saveOperation(
      { name: input.name, document: input.document, hash: sha256Hex(input.document), normalizedHash: normalizedHashOf(parsed), client: input.client },
      actor,
    );
    if (result.changed) await this.load();
    return { operation: result.operation, created: result.created };
  }

  async remove(name: string, actor: string): Promise<RegisteredOperation> {
    const removed = await this.#store.deleteOperation(name, actor);
    if (!removed) {
      throw new GraftError(GraftErrorCode.OPERATION_NOT_FOUND, `No operation named "${name}" is registered: GET /admin/operations lists them.`, { details: { operation: name } });
    }
    await this.load();
    return removed;
  }

  /**
   * Registers every named operation of the *.graphql files under `dir` (fragments shared
   * across files, as `graft check --operations` reads them), each stored as its canonical
   * print with the fragments it uses. With an API schema, operations that do not validate
   * are skipped (and reported); before the first publish they are registered unvalidated:
   * the repository's own files are trusted, and the publish rule only counts operations that
   * validate against the current graph anyway.
   */
  async registerDirectory(dir: string, actor: string): Promise<DirectoryRegistration> {
    const report: DirectoryRegistration = { registered: [], unchanged: [], skipped: [] };
    const schema = this.#apiSchema();
    for (const operation of parseOperations(await loadOperationDir(dir))) {
      if (!OPERATION_NAME.test(operation.name)) {
        report.skipped.push({ name: operation.name, file: operation.file, reason: 'anonymous operations cannot be registered: name it' });
        continue;
      }
      if ([...report.registered, ...report.unchanged].includes(operation.name)) {
        report.skipped.push({ name: operation.name, file: operation.file, reason: 'an operation of that name was registered from another file' });
        continue;
      }
      const document = print(operation.document);
      try {
        const parsed = this.checkDocument(operation.name, document, schema);
        const result = await this.#store.saveOperation({ name: operation.name, document, hash: sha256Hex(document), normalizedHash: normalizedHashOf(parsed) }, actor);
        (result.changed ? report.registered : report.unchanged).push(operation.name);
      } catch (error) {
        if (!(error instanceof GraftError) || error.code !== GraftErrorCode.OPERATION_INVALID) throw error;
        report.skipped.push({ name: operation.name, file: operation.file, reason: error.message });
      }
    }
    await this.load();
    return report;
  }
}
