// Response paths with their types, and GraphQL's null propagation: a null at a non-null
// position makes its parent null, up to the nearest nullable position (or the whole data).
import { getNullableType, isListType, isNonNullType, type GraphQLOutputType } from 'graphql';

/** A field of an operation, as a linked list from the field up to the root (no copying per field). */
export interface SelectionTrail {
  /** Response key: alias or field name. */
  readonly key: string;
  readonly type: GraphQLOutputType;
  readonly parent: SelectionTrail | undefined;
}

/** One step of a typed response path (list levels implied by the type). */
export interface PathSegment {
  /** Response key (alias or field name). */
  key: string;
  /** The field's type, for null insertion and propagation. */
  type: GraphQLOutputType;
}

export function typedPathOf(trail: SelectionTrail): PathSegment[] {
  const segments: PathSegment[] = [];
  for (let t: SelectionTrail | undefined = trail; t; t = t.parent) segments.push({ key: t.key, type: t.type });
  return segments.reverse();
}

/** The response keys to a field, "@" after a list standing for every item (Apollo Router's error paths). */
export function listMarkedPathOf(trail: SelectionTrail): string[] {
  const path: string[] = [];
  for (let t: SelectionTrail | undefined = trail; t; t = t.parent) {
    if (t !== trail) {
      let current = getNullableType(t.type);
      while (isListType(current)) {
        path.push('@');
        current = getNullableType(current.ofType);
      }
    }
    path.push(t.key);
  }
  return path.reverse();
}

/** A place in a response value: the object or list holding it, and the key or index in it. */
export interface ResponseTrail {
  readonly holder: Record<string, unknown> | unknown[];
  readonly key: string | number;
  readonly type: GraphQLOutputType;
  readonly parent: ResponseTrail | undefined;
}

export function responsePathOf(trail: ResponseTrail): Array<string | number> {
  const path: Array<string | number> = [];
  for (let t: ResponseTrail | undefined = trail; t; t = t.parent) path.push(t.key);
  return path.reverse();
}

/**
 * Puts null at the trail's place, or, when its type is non-null, at the nearest nullable
 * place above it. False when no place above is nullable: the whole data becomes null.
 */
export function propagateNull(trail: ResponseTrail): boolean {
  let current: ResponseTrail | undefined = trail;
  while (current && isNonNullType(current.type)) current = current.parent;
  if (!current) return false;
  (current.holder as Record<string | number, unknown>)[current.key] = null;
  return true;
}

type Data = Record<string, unknown>;

/**
 * Calls `visit` at every place a typed path reaches in a response (every item of a list).
 * `visit` gets the place and its value; it returns false to go no further down from there
 * when the path continues (a missing value is a place too: the caller decides).
 */
export function forEachAtPath(
  data: Data,
  path: readonly PathSegment[],
  visit: (trail: ResponseTrail, value: unknown, last: boolean) => boolean | void,
): void {
  const step = (object: Data, index: number, parent: ResponseTrail | undefined): void => {
    const segment = path[index];
    if (!segment) return;
    const here: ResponseTrail = { holder: object, key: segment.key, type: segment.type, parent };
    const value = object[segment.key];
    const last = index === path.length - 1;
    if (visit(here, value, last) === false || last) return;
    descend(value, segment.type, here, index);
  };
  const descend = (value: unknown, type: GraphQLOutputType, trail: ResponseTrail, index: number): void => {
    if (value === null || value === undefined) return;
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      if (!Array.isArray(value)) return;
      const itemType = nullable.ofType as GraphQLOutputType;
      // A propagated null may replace the list while its items are visited: iterate a copy.
      const items = [...value];
      for (let i = 0; i < items.length; i += 1) descend(items[i], itemType, { holder: value, key: i, type: itemType, parent: trail }, index);
      return;
    }
    if (typeof value === 'object') step(value as Data, index + 1, trail);
  };
  step(data, 0, undefined);
}

/**
 * Puts null at every place a typed path reaches, with null propagation. A place that is
 * missing on the way (a field whose every child was left out) is null too. False when
 * the propagation reached the root: the whole data is null.
 */
export function nullAtPath(data: Data, path: readonly PathSegment[]): boolean {
  let whole = false;
  forEachAtPath(data, path, (trail, value, last) => {
    if (whole) return false;
    if (last || value === undefined) {
      if (!propagateNull(trail)) whole = true;
      return false;
    }
    return value !== null;
  });
  return !whole;
}
