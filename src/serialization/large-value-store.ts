// The claim-check contract: values over `largeValues.threshold` are kept by the application's own
// store (a bucket, a table, files) and the checkpoint holds only a reference to them.

/** What Zart tells the store about a value it puts. */
export interface LargeValueInfo {
  /** The value in words, e.g. `the output of step "export#0" of run "r1"`. */
  what: string;
  /** The run it belongs to (for a workflow input: the run it starts). */
  runId: string;
  /** The step whose output it is; null for inputs and event payloads. */
  stepKey: string | null;
  /** Size of `data` in UTF-8 bytes. */
  bytes: number;
}

/**
 * Keeps large values outside PostgreSQL. Both methods may be called from any process that
 * executes or inspects runs, so every one of them needs the same store.
 */
export interface LargeValueStore {
  /**
   * Stores `data` (the value's JSON text, exactly as Zart would have stored it in the checkpoint)
   * and returns a reference to read it back with (at most 1,000 characters). Must not resolve
   * before the data is durable: the reference is checkpointed right after. A value is never
   * overwritten; the same value put twice (a retried step) may get two references.
   */
  put(data: string, info: LargeValueInfo): Promise<string>;
  /** Returns exactly what `put` stored under `ref`, as a string or its UTF-8 bytes. */
  get(ref: string): Promise<string | Uint8Array>;
}
