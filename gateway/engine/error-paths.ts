// A failed fetch surfaces from @apollo/gateway as one error without a path. Clients of a
// low-code frontend need to know which fields are missing and why: this puts one error at
// each affected path (a null field the failed extension resolves, or a null parent whose
// selection needed it), with the extension's name and code.
import { GraphQLError, getNamedType, isCompositeType, isObjectType, type DocumentNode, type FieldNode, type GraphQLCompositeType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import type { GatewayExecutionResult } from '@apollo/server-gateway-interface';
import type { FieldOwnership } from '../composition/index.js';
import {
  collectFields,
  collectSubfields,
  fragmentsOf,
  operationVariables,
  possibleRuntimeTypes,
  selectOperation,
  type SelectionContext,
  type VariableValues,
} from '../graphql/index.js';

type Path = Array<string | number>;
type Collected = Map<string, ReadonlyArray<FieldNode>>;

/**
 * `variables`: the request's values. What @skip/@include left out was not asked for, so
 * a failed extension that would have resolved it is not blamed at its path.
 */
export function attributeExtensionErrors(
  result: GatewayExecutionResult,
  document: DocumentNode,
  operationName: string | null | undefined,
  schema: GraphQLSchema,
  ownership: FieldOwnership,
  variables?: VariableValues | null,
): GatewayExecutionResult {
  const failures = new Map<string, GraphQLError>();
  for (const error of result.errors ?? []) {
    const extension = error.extensions?.['extension'];
    if (typeof extension === 'string' && error.path === undefined && !failures.has(extension)) failures.set(extension, error);
  }
  if (failures.size === 0) return result;

  const operation = selectOperation(document, operationName);
  const root = operation instanceof GraphQLError ? undefined : schema.getRootType(operation.operation);
  if (operation instanceof GraphQLError || !root) return result;
  const context: SelectionContext = { schema, fragments: fragmentsOf(document), variables: operationVariables(operation, variables) };

  const found = new Map<string, Path[]>();
  const record = (extension: string, path: Path) => {
    const paths = found.get(extension) ?? [];
    paths.push(path);
    found.set(extension, paths);
  };

  /** Extensions among the failed ones that resolve something below these fields (any concrete type). */
  const needs = (type: GraphQLCompositeType, fieldNodes: ReadonlyArray<FieldNode>, depth = 0): Set<string> => {
    const result = new Set<string>();
    if (depth > 32) return result;
    for (const runtime of possibleRuntimeTypes(schema, type)) {
      for (const nodes of collectSubfields(context, runtime, fieldNodes).values()) needsOfField(runtime, nodes, depth, result);
    }
    return result;
  };
  const needsOfField = (parent: GraphQLObjectType, nodes: ReadonlyArray<FieldNode>, depth: number, into: Set<string>): void => {
    const field = parent.getFields()[nodes[0]!.name.value];
    if (!field) return;
    for (const owner of ownership.ownersOf(parent.name, field.name)) if (failures.has(owner)) into.add(owner);
    const named = getNamedType(field.type);
    if (isCompositeType(named)) needs(named, nodes, depth + 1).forEach((e) => into.add(e));
  };

  const walkFields = (parent: GraphQLObjectType, fields: Collected, value: Record<string, unknown>, path: Path, certain: boolean, seen?: Set<string>): void => {
    for (const [key, nodes] of fields) {
      const field = parent.getFields()[nodes[0]!.name.value];
      if (!field) continue;
      const child = value[key];
      // With the concrete type unknown, a key of another possible type is simply absent.
      if (child === undefined && !certain) continue;
      if (seen) {
        if (seen.has(key)) continue;
        seen.add(key);
      }
      const named = getNamedType(field.type);
      if (child === null || child === undefined) {
        const direct = ownership.ownersOf(parent.name, field.name).filter((o) => failures.has(o));
        const culprits = direct.length > 0 ? direct : isCompositeType(named) ? [...needs(named, nodes)] : [];
        for (const extension of culprits) record(extension, [...path, key]);
        continue;
      }
      if (!isCompositeType(named)) continue;
      const visit = (item: unknown, itemPath: Path): void => {
        if (Array.isArray(item)) item.forEach((inner, index) => visit(inner, [...itemPath, index]));
        else if (item !== null && typeof item === 'object') walkObject(named, nodes, item as Record<string, unknown>, itemPath);
        else if (item === null) {
          for (const extension of needs(named, nodes)) record(extension, itemPath);
        }
      };
      visit(child, [...path, key]);
    }
  };

  const walkObject = (type: GraphQLCompositeType, nodes: ReadonlyArray<FieldNode>, value: Record<string, unknown>, path: Path): void => {
    const typename = value['__typename'];
    const known = isObjectType(type) ? type : typeof typename === 'string' ? schema.getType(typename) : undefined;
    const runtimes = isObjectType(known) ? [known] : possibleRuntimeTypes(schema, type);
    const seen = runtimes.length > 1 ? new Set<string>() : undefined;
    for (const runtime of runtimes) walkFields(runtime, collectSubfields(context, runtime, nodes), value, path, runtimes.length === 1, seen);
  };

  const rootFields = collectFields(context, root, operation.selectionSet);
  if (result.data) walkFields(root, rootFields, result.data, [], true);
  else {
    const all = new Set<string>();
    for (const nodes of rootFields.values()) needsOfField(root, nodes, 0, all);
    for (const extension of all) record(extension, []);
  }

  const errors: GraphQLError[] = [];
  for (const error of result.errors ?? []) {
    const extension = error.extensions?.['extension'];
    const paths = typeof extension === 'string' && error.path === undefined && failures.get(extension) === error ? found.get(extension) : undefined;
    if (!paths || paths.length === 0 || (paths.length === 1 && paths[0]!.length === 0)) {
      if (!(typeof extension === 'string' && error.path === undefined && failures.get(extension) !== error)) errors.push(error);
      continue;
    }
    for (const path of paths) errors.push(new GraphQLError(error.message, { path, extensions: error.extensions }));
  }
  return { ...result, errors };
}
