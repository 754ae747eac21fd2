// Bounded label values for Prometheus. A label value that a client or an extension
// chooses (an operation name, an error code from a subgraph) must never grow the number
// of series without limit: known values always pass, other values pass when they look
// like a name and only until `max` distinct ones were admitted; the rest become `other`.

/** What any value that is not admitted becomes. */
export const OTHER = 'other';

export interface BoundedLabelOptions {
  /** Values that always pass (registered operations, known error codes). */
  isKnown?: (value: string) => boolean;
  /** Shape a value must have to be admitted. */
  pattern: RegExp;
  /** Largest number of distinct admitted values beside the known ones. */
  max: number;
  /** What a refused value becomes (default `other`). */
  other?: string;
}

export class BoundedLabel {
  readonly #options: BoundedLabelOptions;
  readonly #admitted = new Set<string>();
  readonly #other: string;

  constructor(options: BoundedLabelOptions) {
    this.#options = options;
    this.#other = options.other ?? OTHER;
  }

  /** The label value for `value`: itself when known or admitted, `other` otherwise. */
  of(value: string): string {
    if (this.#admitted.has(value)) return value;
    if (this.#options.isKnown?.(value)) return value;
    if (this.#admitted.size >= this.#options.max || !this.#options.pattern.test(value)) return this.#other;
    this.#admitted.add(value);
    return value;
  }

  /** Distinct values admitted so far (known values not counted). */
  get admitted(): number {
    return this.#admitted.size;
  }
}

/** GraphQL operation names (the same shape as a GraphQL Name, 64 characters at most). */
export const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Error codes: SCREAMING_SNAKE_CASE, 64 characters at most. */
export const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
