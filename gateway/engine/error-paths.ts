// A failed fetch surfaces from @apollo/gateway as one error without a path. Clients of a
// low-code frontend need to know which fields are missing and why: this puts one error at
// each affected path (a null field the failed extension resolves, or a null parent whose
// selection needed it), with the extension's name and code.
import {
  GraphQLError,
  Kind,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { GatewayExecutionResult } from '@apollo/server-gateway-interface';
import type { FieldOwnership } from '../composition/index.js';

type Path = Array<string | number>;

export function attributeExtensionErrors(
  result: GatewayExecutionResult,
  document: DocumentNode,
  operationName: string | null | undefined,
  schema: GraphQLSchema,
  ownership: FieldOwnership,
): GatewayExecutionResult {
  const failures = new Map<string, GraphQLError>();
  for (const error of result.errors ?? []) {
    const extension = error.extensions?.['extension'];
    if (typeof extension === 'string' && error.path === undefined && !failures.has(extension)) failures.set(extension, error);
  }
  if (failures.size === 0) return result;

  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    if (definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName)) operation ??= definition;
  }
  const root = operation ? schema.getRootType(operation.operation) : undefined;
  if (!operation || !root) return result;

  const found = new Map<string, Path[]>();
  const record = (extension: string, path: Path) => {
    const paths = found.get(extension) ?? [];
    paths.push(path);
    found.set(extension, paths);
  };

  /** Extensions among the failed ones that resolve something in this selection set. */
  const needs = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, depth = 0): Set<string> => {
    const result = new Set<string>();
    if (depth > 32) return result;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
        const field = parent.getFields()[selection.name.value];
        if (!field) continue;
        for (const owner of ownership.ownersOf(parent.name, field.name)) if (failures.has(owner)) result.add(owner);
        const named = getNamedType(field.type);
        if (selection.selectionSet && isCompositeType(named)) needs(selection.selectionSet, named, depth + 1).forEach((e) => result.add(e));
      } else {
        const condition = selection.kind === Kind.INLINE_FRAGMENT ? selection.typeCondition?.name.value : fragments.get(selection.name.value)?.typeCondition.name.value;
        const set = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : fragments.get(selection.name.value)?.selectionSet;
        const type = condition ? schema.getType(condition) : parent;
        if (set && type && isCompositeType(type)) needs(set, type, depth + 1).forEach((e) => result.add(e));
      }
    }
    return result;
  };

  const walk = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, value: Record<string, unknown>, path: Path): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) {
        const condition = selection.kind === Kind.INLINE_FRAGMENT ? selection.typeCondition?.name.value : fragments.get(selection.name.value)?.typeCondition.name.value;
        const set = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : fragments.get(selection.name.value)?.selectionSet;
        const typename = value['__typename'];
        if (condition && typeof typename === 'string' && typename !== condition && isObjectType(schema.getType(condition))) continue;
        const type = condition ? schema.getType(condition) : parent;
        if (set && type && isCompositeType(type)) walk(set, type, value, path);
        continue;
      }
      if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
      const field = parent.getFields()[selection.name.value];
      if (!field) continue;
      const key = selection.alias?.value ?? selection.name.value;
      const child = value[key];
      const named = getNamedType(field.type);
      if (child === null || child === undefined) {
        const direct = ownership.ownersOf(parent.name, field.name).filter((o) => failures.has(o));
        const culprits = direct.length > 0 ? direct : selection.selectionSet && isCompositeType(named) ? [...needs(selection.selectionSet, named)] : [];
        for (const extension of culprits) record(extension, [...path, key]);
        continue;
      }
      if (!selection.selectionSet || !isCompositeType(named)) continue;
      const visit = (item: unknown, itemPath: Path): void => {
        if (Array.isArray(item)) item.forEach((inner, index) => visit(inner, [...itemPath, index]));
        else if (item !== null && typeof item === 'object') walk(selection.selectionSet!, named, item as Record<string, unknown>, itemPath);
        else if (item === null) {
          for (const extension of needs(selection.selectionSet!, named)) record(extension, itemPath);
        }
      };
      visit(child, [...path, key]);
    }
  };

  if (result.data) walk(operation.selectionSet, root, result.data, []);
  else for (const extension of needs(operation.selectionSet, root)) record(extension, []);

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
