// The hash of a step's arguments stored with its checkpoint, so a replay that makes the call with
// other arguments is caught. Shared by executions and by replays of exported histories.
import { createHash } from 'node:crypto';
import type { ValueSerializer } from '../serialization/value-serializer';

/** Null without arguments, or when they cannot be serialized (a function, say): not compared. */
export function hashArguments(serializer: ValueSerializer, args: readonly unknown[] | undefined): string | null {
  if (args === undefined || args.length === 0) return null;
  try {
    const stored = serializer.serialize(args, 'step arguments');
    return createHash('sha256').update(JSON.stringify(stored)).digest('hex');
  } catch {
    return null;
  }
}
