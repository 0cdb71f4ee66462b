// A full garbage collection on demand, for the heap figures of W3: `--expose-gc` set at run time,
// so `npm run bench` needs no extra node flag.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function collectGarbage(): void {
  // Twice: the first pass can leave objects whose finalizers free more on the second.
  gc();
  gc();
}
