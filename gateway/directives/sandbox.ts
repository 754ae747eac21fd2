// The isolation boundary for extension directive code (DESIGN.md, decision 6): QuickJS
// compiled to WebAssembly (quickjs-emscripten, release build, synchronous variant).
//
// - One QuickJS runtime per directive (its own heap with a memory limit, a maximum stack
//   size and an interrupt handler with a deadline), created on first use and reused.
// - A context per runtime in which the trusted driver (driver.ts) ran first and froze
//   every object reachable from the global scope. Each call evaluates the extension's
//   module again (a fresh module instance, fresh module-level variables) and calls its
//   `transform` once per value. With every shared object frozen, nothing a call does
//   survives it, so a directive cannot carry one tenant's values into another tenant's
//   response. The context is replaced after any failure, and before the module records
//   each evaluation leaves behind (about 1 KiB plus the source's size) fill a quarter of
//   the heap (at most every MAX_CALLS_PER_REALM calls). Setting one up costs ~4 ms.
// - Nothing of the host is ever handed in: no host function, no module loader (`import`
//   fails), no timers, no console. Values cross as JSON text both ways, and the host
//   validates everything that comes back before it touches the response.
// - A call's time is bounded by the interrupt handler (an infinite loop is stopped at the
//   deadline: callTimeoutMs plus valueTimeMs per value, within what is left of the
//   directive's responseBudgetMs); the value it was working on fails with "timeout" and the
//   values after it get another call while the budget lasts. The deadline is wall-clock
//   time: on a machine so loaded that a legitimate batch misses it, values fail "timeout"
//   rather than hold the response. QuickJS polls the handler every ~10,000 branches or
//   calls, so a loop whose body is one long built-in call can overrun the deadline by the
//   length of that call (measured: tens of ms for a loop of 10 KB string concatenations).
//
// - Memory: each runtime has a heap limit, and the WebAssembly memory all runtimes share is
//   created by Graft with a maximum (`wasmMemoryMaxBytes`), so nothing inside can grow the
//   gateway process beyond it. Typed arrays and ArrayBuffer are not installed: their
//   backing stores are not counted by QuickJS's heap limit (measured: a loop of
//   `new Uint8Array(1 << 20)` under a 4 MiB limit grew the WebAssembly memory to 2 GiB).
//   Should the shared memory still grow past 3/4 of its maximum, the module is replaced
//   (the old memory is released with it).
//
// Calls are synchronous on the gateway's thread: a call blocks it for at most its deadline,
// a response for at most `responseBudgetMs` per directive, and the breaker (breaker.ts)
// stops calling a directive that keeps failing.
import {
  DefaultIntrinsics,
  RELEASE_SYNC,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type Intrinsics,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import { DRIVER_SOURCE } from './driver.js';

export interface SandboxLimits {
  /** Time one call into the sandbox may take: loading the module and a first value... */
  callTimeoutMs: number;
  /** ...plus this much per value of the call, so a batch of 1,000 values gets 100 ms more. */
  valueTimeMs: number;
  /** Time all the calls of one directive may take for one response. */
  responseBudgetMs: number;
  /** Heap of one directive's QuickJS runtime. */
  memoryBytes: number;
  /** Stack of one directive's QuickJS runtime (deep recursion fails with "stack overflow"). */
  maxStackBytes: number;
  /** JSON characters one transformed value may have. */
  maxValueChars: number;
  /** JSON characters all the values of one call may have. */
  maxCallChars: number;
  /** JSON characters of the input of one call; larger batches are split. */
  maxInputChars: number;
  /** Characters of a directive module's source. */
  maxSourceChars: number;
  /** Maximum of the WebAssembly memory every directive runtime lives in. */
  wasmMemoryMaxBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  callTimeoutMs: 50,
  valueTimeMs: 0.1,
  responseBudgetMs: 250,
  memoryBytes: 16 * 1024 * 1024,
  maxStackBytes: 256 * 1024,
  maxValueChars: 64 * 1024,
  maxCallChars: 2 * 1024 * 1024,
  maxInputChars: 1024 * 1024,
  maxSourceChars: 256 * 1024,
  wasmMemoryMaxBytes: 256 * 1024 * 1024,
});

/** No typed arrays / ArrayBuffer (see above); the rest of the language stays. */
const INTRINSICS: Intrinsics = { ...DefaultIntrinsics, TypedArrays: false };
const WASM_PAGE = 64 * 1024;

// The WebAssembly global is not in this project's type libraries (ES2023 + node).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
const { WebAssembly: Wasm } = globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory } };
type VariantMemory = NonNullable<NonNullable<Parameters<typeof newVariant>[1]>['wasmMemory']>;

/** Why a value failed. Stable: clients see it as extensions.reason. */
export type FailureKind = 'error' | 'timeout' | 'memory' | 'output' | 'unavailable';

export interface SandboxProgram {
  /** Identifies the runtime (extension@version/directive); one runtime per key. */
  key: string;
  /** File name shown in stack traces inside the sandbox. */
  label: string;
  source: string;
}

/** One call's worth of work: args and contexts are shared by index, they repeat a lot. */
export interface SandboxBatch {
  values: readonly unknown[];
  args: readonly unknown[];
  argOf: readonly number[];
  contexts: readonly unknown[];
  contextOf: readonly number[];
}

export type ValueOutcome = { ok: true; value: unknown } | { ok: false; kind: FailureKind; detail: string };

export interface BatchOutcome {
  outcomes: ValueOutcome[];
  /** False when the directive itself misbehaved (timeout, memory, crash, module failure, or every value failed): the breaker counts it. */
  healthy: boolean;
  calls: number;
  elapsedMs: number;
}

interface Realm {
  context: QuickJSContext;
  driver: QuickJSHandle;
  run: QuickJSHandle;
  progress: QuickJSHandle;
  describe: QuickJSHandle;
  calls: number;
}

interface Slot {
  runtime: QuickJSRuntime;
  realm: Realm | undefined;
  deadline: number;
  interrupted: boolean;
}

/** Module records pile up in a context (one per evaluation): start a fresh one at most this often. */
const MAX_CALLS_PER_REALM = 1000;
/** The driver's one-time hardening is trusted code; it only needs a generous bound. */
const REALM_SETUP_MS = 1000;

interface CallResult {
  /** Outcomes of the values processed, by position in `indices`. */
  done: ValueOutcome[];
  /** Set when the call was interrupted: the position it was working on. */
  interruptedAt?: number;
  /** Set when the whole call failed (module did not load, driver failed). */
  failure?: { kind: FailureKind; detail: string };
}

const now = (): number => performance.now();
const FAILURE_KINDS = new Set<string>(['error', 'memory', 'output']);

/** A QuickJS error that is not a WebAssembly crash (those mark the sandbox broken). */
class CallFailed extends Error {
  constructor(
    readonly kind: FailureKind,
    detail: string,
  ) {
    super(detail);
  }
}

export class QuickJSSandbox {
  readonly limits: Readonly<SandboxLimits>;
  #module: QuickJSWASMModule | undefined;
  #memory: WasmMemory | undefined;
  #loading: Promise<void> | undefined;
  readonly #slots = new Map<string, Slot>();
  #crashes = 0;

  private constructor(limits: SandboxLimits) {
    this.limits = Object.freeze({ ...limits });
  }

  static async create(limits: Partial<SandboxLimits> = {}): Promise<QuickJSSandbox> {
    const sandbox = new QuickJSSandbox({ ...DEFAULT_SANDBOX_LIMITS, ...limits });
    await sandbox.ready();
    return sandbox;
  }

  /** How often the WebAssembly module had to be replaced (a crash, or its memory grew too much). */
  get crashes(): number {
    return this.#crashes;
  }

  /** Current size of the WebAssembly memory the directives share. */
  get wasmMemoryBytes(): number {
    return this.#memory?.buffer.byteLength ?? 0;
  }

  /** Resolves once the WebAssembly module is loaded (again, after a crash). */
  ready(): Promise<void> {
    if (this.#module) return Promise.resolve();
    const maximum = Math.max(256, Math.floor(this.limits.wasmMemoryMaxBytes / WASM_PAGE));
    const wasmMemory = new Wasm.Memory({ initial: Math.min(256, maximum), maximum });
    this.#loading ??= newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: wasmMemory as unknown as VariantMemory })).then(
      (module) => {
        this.#module = module;
        this.#memory = wasmMemory;
        this.#loading = undefined;
      },
      (error: unknown) => {
        this.#loading = undefined;
        throw error;
      },
    );
    return this.#loading;
  }

  /**
   * Loads a module the way a call would and checks that it exports a function named
   * `transform`. Returns a problem, or undefined when the module is usable.
   */
  check(program: SandboxProgram): string | undefined {
    if (program.source.length > this.limits.maxSourceChars) {
      return `the module has ${program.source.length} characters, more than the limit of ${this.limits.maxSourceChars}`;
    }
    const key = `check:${program.key}`;
    try {
      const result = this.#call({ ...program, key }, { values: [], args: [], argOf: [], contexts: [], contextOf: [] }, []);
      if (result.failure) return result.failure.detail;
      return undefined;
    } catch (error) {
      return `the sandbox failed: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      this.#dropSlot(key);
    }
  }

  /**
   * Transforms every value of the batch, in calls of at most maxInputChars of input, within
   * the response budget. Never throws: every value gets an outcome.
   */
  runBatch(program: SandboxProgram, batch: SandboxBatch): BatchOutcome {
    const started = now();
    const count = batch.values.length;
    const outcomes: ValueOutcome[] = new Array<ValueOutcome>(count);
    if (!this.#module || program.source.length > this.limits.maxSourceChars) {
      const detail = !this.#module ? 'the sandbox is restarting' : 'the module is larger than the sandbox accepts';
      outcomes.fill({ ok: false, kind: 'unavailable', detail });
      return { outcomes, healthy: false, calls: 0, elapsedMs: now() - started };
    }

    // The common case: everything fits one call, and the input is one JSON.stringify.
    const whole = JSON.stringify(batch.values);
    if (whole.length <= this.limits.maxInputChars && !batch.values.includes(undefined)) {
      return this.#runChunks(program, batch, [Array.from({ length: count }, (_, i) => i)], undefined, whole, outcomes, started);
    }
    // Input JSON per value, once: it sizes the chunks and is reused to build each call's input.
    const valueJson = batch.values.map((value) => JSON.stringify(value === undefined ? null : value));
    const queue: number[][] = [];
    let chunk: number[] = [];
    let size = 0;
    for (let i = 0; i < count; i += 1) {
      const length = valueJson[i]!.length + 1;
      if (length > this.limits.maxInputChars) {
        outcomes[i] = { ok: false, kind: 'memory', detail: `the value has ${length} characters of JSON, more than the sandbox input limit of ${this.limits.maxInputChars}` };
        continue;
      }
      if (size + length > this.limits.maxInputChars && chunk.length > 0) {
        queue.push(chunk);
        chunk = [];
        size = 0;
      }
      chunk.push(i);
      size += length;
    }
    if (chunk.length > 0) queue.push(chunk);
    return this.#runChunks(program, batch, queue, valueJson, undefined, outcomes, started);
  }

  #runChunks(
    program: SandboxProgram,
    batch: SandboxBatch,
    queue: number[][],
    valueJson: readonly string[] | undefined,
    whole: string | undefined,
    outcomes: ValueOutcome[],
    started: number,
  ): BatchOutcome {
    const count = batch.values.length;
    let healthy = true;
    let calls = 0;
    while (queue.length > 0) {
      const indices = queue.shift()!;
      if (now() - started > this.limits.responseBudgetMs) {
        healthy = false;
        for (const i of indices) {
          outcomes[i] = { ok: false, kind: 'timeout', detail: `the directive used up its time budget for this response (${this.limits.responseBudgetMs} ms)` };
        }
        continue;
      }
      calls += 1;
      const timeoutMs = Math.min(this.limits.callTimeoutMs + indices.length * this.limits.valueTimeMs, this.limits.responseBudgetMs - (now() - started));
      let result: CallResult;
      try {
        // The precomputed whole input serves the first call only (a retry covers fewer values).
        result = this.#call(program, batch, indices, valueJson, calls === 1 && indices.length === count ? whole : undefined, timeoutMs);
      } catch (error) {
        // Not a QuickJS exception: the WebAssembly module itself failed. Replace it.
        this.#crash();
        healthy = false;
        const detail = `the sandbox failed: ${error instanceof Error ? error.message : String(error)}`;
        for (const i of indices) outcomes[i] = { ok: false, kind: 'unavailable', detail };
        continue;
      }
      if (result.failure) {
        healthy = false;
        for (const i of indices) outcomes[i] = { ok: false, kind: result.failure.kind, detail: result.failure.detail };
        continue;
      }
      result.done.forEach((outcome, position) => {
        outcomes[indices[position]!] = outcome;
        if (!outcome.ok && (outcome.kind === 'memory' || outcome.kind === 'timeout')) healthy = false;
      });
      if (result.interruptedAt !== undefined) {
        healthy = false;
        const culprit = indices[result.interruptedAt]!;
        outcomes[culprit] = { ok: false, kind: 'timeout', detail: `the call ran longer than its ${timeoutMs.toFixed(0)} ms and was interrupted on this value` };
        const rest = indices.slice(result.interruptedAt + 1);
        if (rest.length > 0) queue.unshift(rest);
      }
    }
    if (count > 0 && outcomes.every((o) => !o.ok)) healthy = false;
    if (this.wasmMemoryBytes > this.limits.wasmMemoryMaxBytes * 0.75) this.#crash();
    return { outcomes, healthy, calls, elapsedMs: now() - started };
  }

  /** Disposes the runtimes of directives that are no longer served. */
  retain(keys: ReadonlySet<string>): void {
    for (const key of [...this.#slots.keys()]) if (!keys.has(key)) this.#dropSlot(key);
  }

  close(): void {
    for (const key of [...this.#slots.keys()]) this.#dropSlot(key);
    this.#module = undefined;
  }

  // ---------------------------------------------------------------------------

  #slot(key: string): Slot {
    let slot = this.#slots.get(key);
    if (slot) return slot;
    const module = this.#module;
    if (!module) throw new CallFailed('unavailable', 'the sandbox is restarting');
    const runtime = module.newRuntime();
    runtime.setMemoryLimit(this.limits.memoryBytes);
    runtime.setMaxStackSize(this.limits.maxStackBytes);
    const created: Slot = { runtime, realm: undefined, deadline: 0, interrupted: false };
    runtime.setInterruptHandler(() => {
      if (now() <= created.deadline) return false;
      created.interrupted = true;
      return true;
    });
    slot = created;
    this.#slots.set(key, slot);
    return slot;
  }

  #dropSlot(key: string): void {
    const slot = this.#slots.get(key);
    if (!slot) return;
    this.#slots.delete(key);
    try {
      this.#dropRealm(slot);
      slot.runtime.dispose();
    } catch {
      // A runtime that cannot be freed means the module is in a bad state.
      this.#crash();
    }
  }

  #crash(): void {
    this.#crashes += 1;
    this.#slots.clear(); // their memory goes with the module
    this.#module = undefined;
    this.#memory = undefined;
    void this.ready().catch(() => undefined);
  }

  #arm(slot: Slot, ms: number): void {
    slot.interrupted = false;
    slot.deadline = now() + ms;
  }

  /** The slot's context with the driver loaded, creating it if needed. */
  #realm(slot: Slot): Realm {
    if (slot.realm) return slot.realm;
    const context = slot.runtime.newContext({ intrinsics: INTRINSICS });
    this.#arm(slot, REALM_SETUP_MS);
    const loaded = context.evalCode(DRIVER_SOURCE, 'graft-driver.js', { type: 'global', strict: true });
    if (loaded.error) {
      loaded.error.dispose();
      context.dispose();
      throw new CallFailed('memory', 'the sandbox could not start (are the limits too small?)');
    }
    const driver = loaded.value;
    slot.realm = {
      context,
      driver,
      run: context.getProp(driver, 'run'),
      progress: context.getProp(driver, 'progress'),
      describe: context.getProp(driver, 'describe'),
      calls: 0,
    };
    return slot.realm;
  }

  #dropRealm(slot: Slot): void {
    const realm = slot.realm;
    if (!realm) return;
    slot.realm = undefined;
    for (const handle of [realm.describe, realm.progress, realm.run, realm.driver]) if (handle.alive) handle.dispose();
    realm.context.dispose();
  }

  /** One module evaluation and one pass over `indices`. */
  #call(
    program: SandboxProgram,
    batch: SandboxBatch,
    indices: readonly number[],
    valueJson?: readonly string[],
    wholeValues?: string,
    timeoutMs: number = this.limits.callTimeoutMs,
  ): CallResult {
    let slot: Slot;
    let realm: Realm;
    try {
      slot = this.#slot(program.key);
      try {
        realm = this.#realm(slot);
      } catch (error) {
        this.#dropSlot(program.key);
        throw error;
      }
    } catch (error) {
      if (error instanceof CallFailed) return { done: [], failure: { kind: error.kind, detail: error.message } };
      if (error instanceof Error && error.name === 'InternalError') return { done: [], failure: { kind: 'memory', detail: 'the sandbox could not create a context (memory limit)' } };
      throw error;
    }
    const { context } = realm;
    const handles: QuickJSHandle[] = [];
    const keep = (handle: QuickJSHandle): QuickJSHandle => {
      handles.push(handle);
      return handle;
    };
    let clean = false;
    try {
      this.#arm(slot, timeoutMs);
      const loaded = context.evalCode(program.source, program.label, { type: 'module', strict: true });
      if (loaded.error) {
        const error = keep(loaded.error);
        if (slot.interrupted) return { done: [], failure: { kind: 'timeout', detail: `the module did not finish loading within ${timeoutMs.toFixed(0)} ms` } };
        const detail = this.#describe(realm, slot, error);
        return { done: [], failure: { kind: /out of memory/.test(detail) ? 'memory' : 'error', detail: `the module failed to load: ${detail}` } };
      }
      const namespace = keep(loaded.value);
      const transform = keep(context.getProp(namespace, 'transform'));
      if (context.typeof(transform) !== 'function') {
        return { done: [], failure: { kind: 'error', detail: 'the module does not export a function named transform' } };
      }
      if (indices.length === 0) {
        clean = true;
        return { done: [] };
      }

      const values = wholeValues ?? `[${indices.map((i) => (valueJson ? valueJson[i] : JSON.stringify(batch.values[i] ?? null))).join(',')}]`;
      const input =
        `{"values":${values}` +
        `,"args":${JSON.stringify(batch.args)},"argOf":${JSON.stringify(indices.map((i) => batch.argOf[i]))}` +
        `,"contexts":${JSON.stringify(batch.contexts)},"contextOf":${JSON.stringify(indices.map((i) => batch.contextOf[i]))}}`;
      const result = context.callFunction(
        realm.run,
        realm.driver,
        transform,
        keep(context.newString(input)),
        keep(context.newNumber(this.limits.maxValueChars)),
        keep(context.newNumber(this.limits.maxCallChars)),
      );
      let text: string;
      let interrupted = false;
      if (result.error) {
        const error = keep(result.error);
        if (!slot.interrupted) {
          const detail = this.#describe(realm, slot, error);
          return { done: [], failure: { kind: /out of memory/.test(detail) ? 'memory' : 'error', detail } };
        }
        // Interrupted: read what was done before the deadline.
        interrupted = true;
        this.#arm(slot, 25);
        const partial = context.callFunction(realm.progress, realm.driver);
        if (partial.error) {
          keep(partial.error);
          return { done: [], interruptedAt: 0 };
        }
        text = context.getString(keep(partial.value));
      } else {
        text = context.getString(keep(result.value));
      }
      const parsed = this.#parseOutput(text, indices.length);
      if (!parsed) return { done: [], failure: { kind: 'output', detail: 'the sandbox returned output the gateway cannot read' } };
      if (!interrupted || parsed.done.length >= indices.length) {
        clean = !interrupted && parsed.done.every((o) => o.ok || o.kind !== 'memory');
        return { done: parsed.done };
      }
      return { done: parsed.done, interruptedAt: parsed.done.length };
    } finally {
      for (const handle of handles.reverse()) if (handle.alive) handle.dispose();
      slot.deadline = 0;
      realm.calls += 1;
      if (!clean || realm.calls >= MAX_CALLS_PER_REALM || realm.calls * (1024 + program.source.length) > this.limits.memoryBytes / 4) this.#dropRealm(slot);
      // Promise jobs the module left behind keep objects alive: start the next call clean.
      if (slot.runtime.alive && slot.runtime.hasPendingJob()) this.#dropSlot(program.key);
    }
  }

  /** The driver's description of a thrown value (bounded by a short deadline). */
  #describe(realm: Realm, slot: Slot, error: QuickJSHandle): string {
    this.#arm(slot, 10);
    const result = realm.context.callFunction(realm.describe, realm.driver, error);
    if (result.error) {
      result.error.dispose();
      return 'threw a value that cannot be described';
    }
    const text = realm.context.typeof(result.value) === 'string' ? realm.context.getString(result.value) : 'threw';
    result.value.dispose();
    return text.slice(0, 400);
  }

  /** Validates the driver's output; undefined when it is not what the driver writes. */
  #parseOutput(text: string, count: number): { done: ValueOutcome[] } | undefined {
    if (text.length > this.limits.maxCallChars * 6 + count * 420 + 64) return undefined;
    let output: unknown;
    try {
      output = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof output !== 'object' || output === null) return undefined;
    const { n, v, f } = output as { n?: unknown; v?: unknown; f?: unknown };
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > count || !Array.isArray(v) || v.length !== n || !Array.isArray(f)) return undefined;
    const done: ValueOutcome[] = v.map((value: unknown) => ({ ok: true, value }));
    for (const entry of f) {
      if (!Array.isArray(entry) || entry.length !== 3) return undefined;
      const [index, kind, detail] = entry as [unknown, unknown, unknown];
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= n) return undefined;
      if (typeof kind !== 'string' || !FAILURE_KINDS.has(kind) || typeof detail !== 'string') return undefined;
      done[index] = { ok: false, kind: kind as FailureKind, detail: detail.slice(0, 400) };
    }
    return { done };
  }
}
