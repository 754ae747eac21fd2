// `graft contract-test`: checks a running subgraph against the SDL it is registered with
// and against its own policy directives, by calling it the way the gateway does (a POST
// with a gateway-minted token). The checks:
//   reachable  `_service { sdl }` answers with the token the gateway would send;
//   drift      the live SDL against the registered one (gateway/health's compareSdl);
//   fields     every root field callable without arguments, every field two levels deep,
//              answers without errors (this also collects sample entities);
//   entity     every resolvable @key entity: `_entities` with sample representations (from
//              those answers, or --sample Type=id) returns each sample, no nulls, no
//              errors, and every field of the entity answers; an unknown id gives null;
//   access     every field guarded by @requiresScopes / @authenticated is refused with
//              UNAUTHORIZED_FIELD_OR_TYPE to a token lacking the scopes (or anonymous),
//              and its value is not returned.
// @policy rules need the parent value and the author's own functions: not probed.
import { getNamedType, isInterfaceType, isLeafType, isObjectType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { compareSdl } from '../health/index.js';
import {
  describeRequirement,
  needsArguments,
  readSubgraph,
  scopesNamed,
  type AccessRequirement,
  type SubgraphModel,
} from './sdl-model.js';
import { representationOf, selectionFor, type FieldFilter } from './selection.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';
export type CheckKind = 'reachable' | 'drift' | 'fields' | 'entity' | 'access';

export interface ContractCheck {
  kind: CheckKind;
  status: CheckStatus;
  /** What was checked: a coordinate, an entity type, or the subgraph. */
  subject: string;
  message: string;
  details?: string[];
}

export interface ContractReport {
  extension: string;
  url: string;
  passed: boolean;
  counts: Record<CheckStatus, number>;
  checks: ContractCheck[];
}

/** Mints a token as the gateway would for this extension. */
export type TokenMinter = (claims: { scopes: readonly string[]; anonymous?: boolean }) => Promise<string>;

export interface ContractTestInput {
  name: string;
  url: string;
  registeredSdl: string;
  /** The manifest's grants: the most a gateway token can carry. */
  grants: readonly string[];
  mint: TokenMinter;
  /** Extra sample representations by entity type (--sample). */
  samples?: ReadonlyMap<string, ReadonlyArray<Record<string, unknown>>>;
  timeoutMs?: number;
}

export const UNAUTHORIZED_CODE = 'UNAUTHORIZED_FIELD_OR_TYPE';
const SAMPLES_PER_TYPE = 3;
const UNKNOWN_ID = 'graft-contract-test-unknown-id';

interface GraphQLError {
  message: string;
  path?: Array<string | number>;
  extensions?: Record<string, unknown>;
}

interface GraphQLAnswer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: GraphQLError[];
}

class Caller {
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async post(token: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer> {
    const response = await fetch(this.url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let body: { data?: Record<string, unknown> | null; errors?: GraphQLError[] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`HTTP ${response.status} without a GraphQL JSON body`);
    }
    return { status: response.status, ...body };
  }
}

function errorLine(error: GraphQLError): string {
  const code = typeof error.extensions?.['code'] === 'string' ? `${error.extensions['code']}: ` : '';
  return `${code}${error.message.replace(/\s+/g, ' ').slice(0, 200)}`;
}

/** The schema coordinate (Type.field) an error path ends at, walking the schema. */
export function coordinateOf(schema: GraphQLSchema, path: ReadonlyArray<string | number>, rootType?: string): string | undefined {
  let type = rootType ? schema.getType(rootType) : schema.getQueryType();
  let coordinate: string | undefined;
  for (const segment of path) {
    if (typeof segment === 'number') continue;
    if (!isObjectType(type)) return coordinate;
    const field = type.getFields()[segment];
    if (!field) return coordinate;
    coordinate = `${type.name}.${segment}`;
    type = getNamedType(field.type);
  }
  return coordinate;
}

/** Collects entity values (objects with __typename) anywhere in an answer. */
function collectObjects(value: unknown, out: Array<Record<string, unknown>>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectObjects(item, out);
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (typeof record['__typename'] === 'string') out.push(record);
    for (const inner of Object.values(record)) collectObjects(inner, out);
  }
}

function valueAt(data: unknown, path: ReadonlyArray<string | number>): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || current === undefined || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

export async function runContractTest(input: ContractTestInput): Promise<ContractReport> {
  const checks: ContractCheck[] = [];
  const add = (check: ContractCheck) => checks.push(check);
  const caller = new Caller(input.url, input.timeoutMs ?? 10_000);
  const finish = (): ContractReport => {
    const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0 };
    for (const check of checks) counts[check.status] += 1;
    return { extension: input.name, url: input.url, passed: counts.fail === 0, counts, checks };
  };

  let registered: SubgraphModel;
  try {
    registered = readSubgraph(input.registeredSdl);
  } catch (error) {
    add({ kind: 'drift', status: 'fail', subject: input.name, message: `the registered SDL is not a valid subgraph: ${(error as Error).message}` });
    return finish();
  }

  // Every grant, authenticated: what a fully entitled user's request carries.
  const fullToken = await input.mint({ scopes: input.grants });

  // reachable
  let liveSdl: string;
  try {
    const answer = await caller.post(fullToken, '{ _service { sdl } }');
    const sdl = (answer.data?.['_service'] as { sdl?: unknown } | undefined)?.sdl;
    if (answer.status === 401 || answer.status === 403) {
      throw new Error(`HTTP ${answer.status}: it refused the gateway's token (${answer.errors?.[0]?.message ?? 'no message'}); check that it verifies tokens against the gateway's JWKS and issuer`);
    }
    if (typeof sdl !== 'string') throw new Error(`HTTP ${answer.status}, no _service.sdl${answer.errors?.[0] ? `: ${errorLine(answer.errors[0])}` : ''}`);
    liveSdl = sdl;
  } catch (error) {
    add({ kind: 'reachable', status: 'fail', subject: input.url, message: `_service { sdl } failed: ${(error as Error).message}` });
    return finish();
  }
  add({ kind: 'reachable', status: 'pass', subject: input.url, message: 'answers _service { sdl } with a gateway token' });

  // drift
  const drift = compareSdl(liveSdl, input.registeredSdl);
  if (drift.detected) {
    add({ kind: 'drift', status: 'fail', subject: input.name, message: `the live SDL differs from the registered one: ${drift.summary ?? ''}`, details: drift.differences });
  } else {
    add({ kind: 'drift', status: 'pass', subject: input.name, message: 'the live SDL matches the registered one' });
  }
  let live: SubgraphModel | undefined;
  try {
    live = readSubgraph(liveSdl);
  } catch {
    live = undefined;
  }
  // Only what both sides declare is probed: drift is reported once, above.
  const inBoth: FieldFilter = (typeName, fieldName) => {
    const type = live?.schema.getType(typeName);
    return !live || ((isObjectType(type) || isInterfaceType(type)) && fieldName in type.getFields());
  };
  const schema = registered.schema;

  const fieldErrors = new Map<string, { messages: Set<string>; where: Set<string> }>();
  const policyRefusals = new Set<string>();
  const recordErrors = (errors: readonly GraphQLError[] | undefined, rootType: string | undefined, where: string, pathOffset = 0) => {
    for (const error of errors ?? []) {
      const path = (error.path ?? []).slice(pathOffset);
      const coordinate = (error.path ? coordinateOf(schema, path, rootType) : undefined) ?? where;
      const [typeName, fieldName] = coordinate.split('.');
      const requirement = typeName && fieldName ? registered.requirementOf(typeName, fieldName) : undefined;
      if (error.extensions?.['code'] === UNAUTHORIZED_CODE && requirement && requirement.policies.length > 0) {
        policyRefusals.add(coordinate);
        continue;
      }
      let entry = fieldErrors.get(coordinate);
      if (!entry) fieldErrors.set(coordinate, (entry = { messages: new Set(), where: new Set() }));
      entry.messages.add(errorLine(error));
      entry.where.add(where);
    }
  };

  // fields (root): each root field callable without arguments, with everything below it.
  const samples = new Map<string, Array<{ representation: Record<string, unknown>; from: string }>>();
  const addSample = (typeName: string, representation: Record<string, unknown>, from: string) => {
    const list = samples.get(typeName) ?? [];
    if (list.length >= SAMPLES_PER_TYPE || list.some((s) => JSON.stringify(s.representation) === JSON.stringify(representation))) return;
    list.push({ representation, from });
    samples.set(typeName, list);
  };
  for (const [typeName, given] of input.samples ?? []) for (const representation of given) addSample(typeName, { __typename: typeName, ...representation }, '--sample');
  /** Entities found in an answer become samples of their type. */
  const harvest = (data: unknown, from: string) => {
    const objects: Array<Record<string, unknown>> = [];
    collectObjects(data, objects);
    for (const object of objects) {
      const typeName = object['__typename'] as string;
      for (const key of registered.entities.get(typeName) ?? []) {
        if (!key.resolvable) continue;
        const representation = representationOf(typeName, object, key.fields);
        if (representation) addSample(typeName, representation, from);
      }
    }
  };

  const queryType = schema.getQueryType();
  const rootFieldsChecked: string[] = [];
  const rootFieldsSkipped: string[] = [];
  for (const field of Object.values(queryType?.getFields() ?? {})) {
    if (field.name.startsWith('_') || !inBoth(queryType!.name, field.name)) continue;
    if (needsArguments(field)) {
      rootFieldsSkipped.push(field.name);
      continue;
    }
    const query = `{ ${field.name} ${selectionFor(getNamedType(field.type), 2, inBoth)} }`;
    try {
      const answer = await caller.post(fullToken, query);
      recordErrors(answer.errors, undefined, `Query.${field.name}`);
      rootFieldsChecked.push(field.name);
      harvest(answer.data, `Query.${field.name}`);
    } catch (error) {
      recordErrors([{ message: (error as Error).message }], undefined, `Query.${field.name}`);
    }
  }

  // entity: _entities with the samples.
  // Types with samples first; an entity's answer may hold samples of another (Customer.orders).
  const entityTypes = [...registered.entities.entries()].filter(([, keys]) => keys.some((k) => k.resolvable)).map(([name]) => name).sort();
  const unchecked = new Set(entityTypes);
  const nextEntityType = (): string | undefined => entityTypes.find((t) => unchecked.has(t) && samples.has(t)) ?? entityTypes.find((t) => unchecked.has(t));
  for (let typeName = nextEntityType(); typeName !== undefined; typeName = nextEntityType()) {
    unchecked.delete(typeName);
    const type = schema.getType(typeName);
    if (!isObjectType(type)) continue;
    const given = [...(samples.get(typeName) ?? [])];
    const selection = selectionFor(type, 2, inBoth);
    const entitiesQuery = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${typeName} ${selection} } }`;
    const keyFields = registered.entities.get(typeName)!.filter((k) => k.resolvable)[0]!.fields;
    if (given.length === 0) {
      add({
        kind: 'entity',
        status: 'warn',
        subject: typeName,
        message: `${typeName}: no sample: no root field or entity of the subgraph returned one; pass --sample ${typeName}=<${keyFields}> to check its __resolveReference`,
      });
    } else {
      try {
        const answer = await caller.post(fullToken, entitiesQuery, { representations: given.map((s) => s.representation) });
        const results = (answer.data?.['_entities'] as unknown[] | undefined) ?? [];
        harvest(results, `${typeName} sample`);
        const problems: string[] = [];
        for (const error of answer.errors ?? []) {
          if (!error.path || error.path.length <= 2) problems.push(errorLine(error));
        }
        recordErrors(
          (answer.errors ?? []).filter((e) => e.path && e.path.length > 2),
          typeName,
          `${typeName} sample`,
          2,
        );
        given.forEach((sample, index) => {
          if (results[index] !== null && results[index] !== undefined) return;
          const representation = JSON.stringify(stripTypename(sample.representation));
          const below = (answer.errors ?? []).find((e) => e.path?.[1] === index && e.path.length > 2);
          if (below) {
            // A non-null field failed and nulled the whole entity: typically no (or an
            // incomplete) __resolveReference, so only the key fields are known.
            problems.push(`${representation} (from ${sample.from}) came back null because ${coordinateOf(schema, below.path!.slice(2), typeName) ?? 'a field'} failed: ${errorLine(below)} (does __resolveReference load the entity?)`);
          } else if (!(answer.errors ?? []).some((e) => e.path?.[1] === index)) {
            problems.push(`__resolveReference returned null for ${representation} (from ${sample.from})`);
          }
        });
        if (problems.length > 0) {
          add({ kind: 'entity', status: 'fail', subject: typeName, message: `${typeName}: _entities failed: ${problems[0]}`, details: problems });
        } else {
          add({ kind: 'entity', status: 'pass', subject: typeName, message: `${typeName}: _entities resolves ${given.length} sample${given.length === 1 ? '' : 's'} (${given.map((s) => JSON.stringify(stripTypename(s.representation))).join(', ')})` });
        }
      } catch (error) {
        add({ kind: 'entity', status: 'fail', subject: typeName, message: `${typeName}: _entities failed: ${(error as Error).message}` });
      }
    }
    // An id nobody has: null, not an error (the gateway would otherwise fail the whole fetch's items).
    if (!/[\s{]/.test(keyFields.trim())) {
      try {
        const answer = await caller.post(fullToken, `query ($representations: [_Any!]!) { _entities(representations: $representations) { __typename } }`, {
          representations: [{ __typename: typeName, [keyFields.trim()]: UNKNOWN_ID }],
        });
        const refused = (answer.errors ?? []).find((e) => e.extensions?.['code'] !== UNAUTHORIZED_CODE);
        if (refused) {
          add({ kind: 'entity', status: 'warn', subject: typeName, message: `${typeName}: _entities errors for an unknown ${keyFields} instead of answering null: ${errorLine(refused)}` });
        }
      } catch (error) {
        add({ kind: 'entity', status: 'warn', subject: typeName, message: `${typeName}: _entities with an unknown ${keyFields} failed: ${(error as Error).message}` });
      }
    }
  }

  // fields: the verdict over everything asked above.
  for (const [coordinate, { messages, where }] of [...fieldErrors.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    add({
      kind: 'fields',
      status: 'fail',
      subject: coordinate,
      message: `${coordinate} errors (${[...where].join(', ')}): ${[...messages][0]}`,
      details: [...messages],
    });
  }
  if (fieldErrors.size === 0) {
    const entityCount = [...samples.values()].reduce((n, list) => n + list.length, 0);
    add({
      kind: 'fields',
      status: rootFieldsChecked.length + entityCount === 0 ? 'warn' : 'pass',
      subject: input.name,
      message:
        rootFieldsChecked.length + entityCount === 0
          ? 'no field could be called without arguments or a sample entity'
          : `every field answered without errors (root fields ${rootFieldsChecked.join(', ') || 'none'}; ${entityCount} sample entit${entityCount === 1 ? 'y' : 'ies'})`,
    });
  }
  if (rootFieldsSkipped.length > 0) {
    add({ kind: 'fields', status: 'skip', subject: 'Query', message: `not called, they need arguments: ${rootFieldsSkipped.map((f) => `Query.${f}`).join(', ')}` });
  }
  for (const coordinate of [...policyRefusals].sort()) {
    add({ kind: 'access', status: 'skip', subject: coordinate, message: `${coordinate} was refused by its @policy rule for the sample (the author's rule with the parent value; not judged here)` });
  }

  // access: every guarded field refused without its scopes (or anonymously).
  const guarded: Array<{ typeName: string; fieldName: string; requirement: AccessRequirement }> = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || type.name.startsWith('_')) continue;
    for (const fieldName of Object.keys(type.getFields())) {
      const requirement = registered.requirementOf(type.name, fieldName);
      if (requirement && (requirement.authenticated || requirement.scopes.length > 0) && inBoth(type.name, fieldName)) {
        guarded.push({ typeName: type.name, fieldName, requirement });
      }
    }
  }
  for (const { typeName, fieldName, requirement } of guarded) {
    const coordinate = `${typeName}.${fieldName}`;
    const field = (schema.getType(typeName) as GraphQLObjectType).getFields()[fieldName]!;
    const inner = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
    const needed = scopesNamed(requirement);
    const token =
      requirement.scopes.length > 0
        ? await input.mint({ scopes: input.grants.filter((g) => !needed.has(g)) })
        : await input.mint({ scopes: input.grants, anonymous: true });
    const lacking = requirement.scopes.length > 0 ? `without ${[...needed].sort().join(', ')}` : 'anonymously';
    let answer: GraphQLAnswer;
    let valuePath: Array<string | number>;
    try {
      if (typeName === queryType?.name) {
        if (needsArguments(field)) {
          add({ kind: 'access', status: 'skip', subject: coordinate, message: `${coordinate} (${describeRequirement(requirement)}) needs arguments; not probed` });
          continue;
        }
        answer = await caller.post(token, `{ ${fieldName}${inner} }`);
        valuePath = [fieldName];
      } else {
        const sample = samples.get(typeName)?.[0];
        if (!sample || needsArguments(field)) {
          add({
            kind: 'access',
            status: 'skip',
            subject: coordinate,
            message: `${coordinate} (${describeRequirement(requirement)}) not probed: ${sample ? 'it needs arguments' : `no sample ${typeName} (an entity sample, --sample ${typeName}=<id>, is needed)`}`,
          });
          continue;
        }
        answer = await caller.post(token, `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${typeName} { ${fieldName}${inner} } } }`, {
          representations: [sample.representation],
        });
        valuePath = ['_entities', 0, fieldName];
      }
    } catch (error) {
      add({ kind: 'access', status: 'fail', subject: coordinate, message: `${coordinate}: the probe ${lacking} failed: ${(error as Error).message}` });
      continue;
    }
    const leaked = valueAt(answer.data, valuePath);
    const refusal = (answer.errors ?? []).find((e) => e.extensions?.['code'] === UNAUTHORIZED_CODE);
    if (leaked !== null && leaked !== undefined) {
      add({ kind: 'access', status: 'fail', subject: coordinate, message: `${coordinate} (${describeRequirement(requirement)}) returned a value to a caller ${lacking}` });
    } else if (!refusal) {
      const codes = (answer.errors ?? []).map(errorLine);
      add({
        kind: 'access',
        status: 'fail',
        subject: coordinate,
        message: `${coordinate} (${describeRequirement(requirement)}) was not refused with ${UNAUTHORIZED_CODE} for a caller ${lacking}${codes.length > 0 ? ` (got ${codes[0]})` : ''}`,
      });
    } else {
      add({ kind: 'access', status: 'pass', subject: coordinate, message: `${coordinate} is refused ${lacking} (${describeRequirement(requirement)})` });
    }
  }
  const policyOnly = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('_')) continue;
    for (const fieldName of Object.keys(type.getFields())) {
      const requirement = registered.requirementOf(type.name, fieldName);
      if (requirement && requirement.policies.length > 0 && !policyRefusals.has(`${type.name}.${fieldName}`)) policyOnly.add(`${type.name}.${fieldName}`);
    }
  }
  if (policyOnly.size > 0) {
    add({ kind: 'access', status: 'skip', subject: '@policy', message: `@policy rules are the extension's own functions of the parent value, not probed: ${[...policyOnly].sort().join(', ')}` });
  }
  return finish();
}

function stripTypename(representation: Record<string, unknown>): Record<string, unknown> {
  const { __typename: _typename, ...rest } = representation;
  return rest;
}

const MARK: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP' };

export function formatContractReport(report: ContractReport): string {
  const lines = [`Contract test of ${report.extension} at ${report.url}`, ''];
  for (const check of report.checks) {
    lines.push(`  ${MARK[check.status]}  ${check.kind.padEnd(9)} ${check.message}`);
    if (check.status === 'fail' && check.details && check.details.length > 1) {
      for (const detail of check.details.slice(0, 10)) lines.push(`                   - ${detail}`);
      if (check.details.length > 10) lines.push(`                   - and ${check.details.length - 10} more`);
    }
  }
  const { pass, fail, warn, skip } = report.counts;
  lines.push('', `${report.passed ? 'PASSED' : 'FAILED'}: ${pass} passed, ${fail} failed, ${warn} warnings, ${skip} skipped`);
  return `${lines.join('\n')}\n`;
}
