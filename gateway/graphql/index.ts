// The GraphQL core: what every feature needs from GraphQL, written once (DESIGN
// "Direction" 1). A leaf folder: it imports graphql and nothing else of Graft's.
export {
  FEDERATION_DIRECTIVES,
  FEDERATION_SPEC_IDENTITY,
  canonicalDirectiveNames,
  federationDirectiveNames,
  linkedDirectiveName,
  readLinks,
  specElementResolver,
  type FederationDirective,
  type LinkedSpec,
} from './links.js';
export { fragmentsOf, selectOperation } from './operation.js';
export { schemaCoordinatesOf } from './coordinates.js';
export {
  collectFields,
  collectSubfields,
  isIncluded,
  operationVariables,
  possibleRuntimeTypes,
  type SelectionContext,
  type VariableValues,
} from './selection.js';
export {
  forEachAtPath,
  listMarkedPathOf,
  nullAtPath,
  propagateNull,
  responsePathOf,
  typedPathOf,
  type PathSegment,
  type ResponseTrail,
  type SelectionTrail,
} from './paths.js';
