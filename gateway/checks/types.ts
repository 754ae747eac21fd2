// The data of a schema check. These shapes are what `graft check --format json` prints and
// what the publish pipeline will store with a version, so they are part of the public API:
// add fields, never rename or repurpose them.
import type { CompositionOutcome, CompositionProblem, SubgraphInput } from '../composition/index.js';

/** How a change affects the graph's clients (the frontends and their persisted operations). */
export type Criticality = 'breaking' | 'dangerous' | 'safe';

/** The outcome of a check: the most severe of its composition errors, changes and broken operations. */
export type Verdict = 'composition-error' | Criticality;

/**
 * `subgraph`: a change to one subgraph's own SDL, as its author wrote it.
 * `api`: a change to the composed API schema, the contract frontends query.
 */
export type ChangeLevel = 'subgraph' | 'api';

export interface SchemaChange {
  level: ChangeLevel;
  /** The subgraph whose SDL changed (level "subgraph" only). */
  subgraph?: string;
  /**
   * A @graphql-inspector/core ChangeType (FIELD_REMOVED, ENUM_VALUE_ADDED, ...) or one of
   * Graft's own (KEY_ADDED, KEY_REMOVED, KEY_CHANGED, KEY_RESOLVABLE_CHANGED,
   * DIRECTIVE_USAGE_ARGUMENT_CHANGED, SUBGRAPH_ADDED, SUBGRAPH_REMOVED).
   */
  type: string;
  criticality: Criticality;
  /** Schema coordinate of what changed: "Customer.email", "Query.customers.first", "@cost", "Order.@key". */
  path: string;
  message: string;
  /** Why this criticality; always set where Graft's rule table differs from inspector's. */
  reason?: string;
  /**
   * `breaking-unused`: a breaking change no operation used in the usage window (nor any
   * registered operation). Unless the check is strict, its criticality is then `dangerous`.
   */
  label?: 'breaking-unused';
}

/** An operation of the traffic that touches what a change changes (the usage step). */
export interface UsedOperation {
  /** sha256 of its normalised signature. */
  hash: string;
  name: string | null;
  signature: string;
  /** Requests in the window (clients excluded left out). */
  count: number;
  /** ISO 8601: the start of the newest minute (or hour) it ran in. */
  lastSeen: string;
  clients: Array<{ name: string; version: string; count: number }>;
  /** The changed coordinates it touches. */
  touches: string[];
}

/** What the traffic says about a change (`graft check --registry`, publish). */
export interface UsageReport {
  days: number;
  /** ISO 8601 start of the window. */
  since: string;
  minCount: number;
  excludedClients: string[];
  strict: boolean;
  /** Operations touching a breaking or dangerous API change, most used first. */
  operations: UsedOperation[];
  /** Coordinates of breaking changes that nothing used in the window. */
  unusedBreaking: string[];
}

/** One file of operations (several operations and fragments per file are fine). */
export interface OperationDocument {
  /** Where it comes from, as the user should see it: a path, or "registry:<name>". */
  file: string;
  source: string;
}

export interface OperationFailure {
  /** The operation name; an anonymous operation is "<anonymous query #n>". */
  name: string;
  file: string;
  /** 1-based line of the operation in its file. */
  line: number;
  /** graphql-js validation messages. */
  errors: string[];
}

/** The steps of the publish pipeline (gateway/publish), in the order their refusals take precedence. */
export type PipelineStepName =
  | 'manifest'
  | 'grants'
  | 'network'
  | 'version-order'
  | 'composition'
  | 'schema-check'
  | 'versioning'
  | 'usage'
  | 'deprecation'
  | 'directives'
  | 'lint';

/** One thing a step of the publish pipeline found. `error` refuses the publish; `warning` does not. */
export interface PipelineFinding {
  /** A GraftErrorCode: the code publish refuses with. */
  code: string;
  severity: 'error' | 'warning';
  /** The extension at fault. */
  extension: string;
  step: PipelineStepName;
  /** Schema coordinate, when the finding is about one. */
  path?: string;
  message: string;
}

/** A rule the pipeline could not judge with what it was given: reported, never a silent pass. */
export interface NotChecked {
  step: PipelineStepName;
  extension: string;
  message: string;
}

/** What publish would do with the change (`graft check` runs the publish pipeline's steps). */
export interface PublishVerdict {
  /** `refused`: some step found an error; `accepted`: none did (see notChecked for what could not be judged). */
  outcome: 'accepted' | 'refused';
  findings: PipelineFinding[];
  notChecked: NotChecked[];
}

export interface SchemaCheckInput {
  /** Every subgraph of the current graph. URLs do not matter to a check. */
  base: readonly SubgraphInput[];
  /** The graph as it would be after the change: the base with replacements, additions and removals applied. */
  proposed: readonly SubgraphInput[];
  /** Subgraphs whose SDL is diffed on its own; defaults to every subgraph added, removed or with a different SDL. */
  changedSubgraphs?: readonly string[];
  /** Operations the graph's clients use (persisted or registered operations). */
  operations?: readonly OperationDocument[];
  /**
   * The base graph's API schema when the caller already has it (the registry stores it with
   * the live supergraph): the base is then not composed again, which is most of a check's
   * time on a large graph. It must be the API schema of exactly `base`.
   */
  baseApiSdl?: string;
  /**
   * The composition of exactly `proposed` when the caller already has it (the publish
   * pipeline's composition step): it is then not composed a second time.
   */
  proposedComposition?: CompositionOutcome;
}

export interface SchemaCheckReport {
  verdict: Verdict;
  /** Subgraph-level changes first (by subgraph), then API-level changes. */
  changes: SchemaChange[];
  /** Why the proposed graph does not compose (empty when it does). */
  compositionErrors: CompositionProblem[];
  /** Operations valid against the base API schema that the proposed one no longer validates. */
  affectedOperations: OperationFailure[];
  /** Operations the proposed API schema rejects that the base rejected already: reported, not blamed on the change. */
  operationsFailingOnBase: OperationFailure[];
  /** Why the base itself does not compose (then there is no API diff and operations are judged against the proposed graph only). */
  baseCompositionErrors: CompositionProblem[];
  changedSubgraphs: string[];
  operationsChecked: number;
  /** Things the reader must know to trust the report, e.g. a step that could not run. */
  notes: string[];
  /** What publish would do (graft check runs the publish pipeline); absent from a bare schema check. */
  publish?: PublishVerdict;
  /** What the gateway's traffic says about the changes; absent without usage (graft check --base). */
  usage?: UsageReport;
}
