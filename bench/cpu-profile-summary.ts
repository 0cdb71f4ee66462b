// Reads .cpuprofile files (node --cpu-prof) and prints where the CPU went by package: self time
// (the frame on top of the stack) and inclusive time (any frame of the package on the stack), so
// "time in TypeORM" or "time in serialization" is a measured figure. Usage, after a build:
//   BENCH_ONLY=w2 BENCH_CPU_PROFILE=prof npm run bench   (W1, W2: one file per system and round; W5: per system)
//   node dist/bench/cpu-profile-summary.js prof/w2-zart-*.cpuprofile   (summed over the files)
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const transparent = 'builtins and node internals';

// First match wins; order from the most specific path to the most general one.
const categories: Array<[string, (url: string, fn: string) => boolean]> = [
  ['(idle)', (u, f) => !u && f === '(idle)'],
  ['(garbage collector)', (u, f) => !u && f === '(garbage collector)'],
  ['(program)', (u, f) => !u && f === '(program)'],
  // The syscalls that send a statement: on this machine's loopback they dominate (see docs).
  ['socket writes (writev/write syscalls)', (u, f) => !u && /^write(v|Buffer|Utf8String|LatinString)?$/.test(f)],
  ['typeorm', (u) => u.includes('/node_modules/typeorm/')],
  ['pg (driver, protocol, pool, types)', (u) => /\/node_modules\/(pg|pg-[a-z]+|postgres-[a-z]+)\//.test(u)],
  ['superjson', (u) => u.includes('/node_modules/superjson/')],
  ['class-transformer / class-validator', (u) => /\/node_modules\/class-(transformer|validator)\//.test(u)],
  ['@dbos-inc/dbos-sdk', (u) => u.includes('/node_modules/@dbos-inc/')],
  ['zart serialization', (u) => /\/dist\/src\/serialization\//.test(u)],
  ['zart (rest of src)', (u) => u.includes('/dist/src/')],
  ['bench harness', (u) => u.includes('/dist/bench/')],
  ['other node_modules', (u) => u.includes('/node_modules/')],
  ['(root)', (u, f) => !u && f === '(root)'],
  // Builtins (JSON.stringify, Promise jobs) and Node's own modules (net, streams, timers): their
  // self time is charged to the nearest caller above that belongs to a package.
  [transparent, (u) => u === '' || u.startsWith('node:')],
  ['other', () => true],
];

function categorise(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  return categories.find(([, test]) => test(url, functionName))![0];
}

export function summariseCpuProfiles(profiles: readonly Profile[]): string {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    profile.samples.forEach((id, i) => {
      // The first delta runs from the Profiler.start request (inspector dispatch), not a sample.
      if (i === 0) return;
      const dt = profile.timeDeltas[i] ?? 0;
      total += dt;
      const stack: string[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
        stack.push(categorise(byId.get(at)!));
      const top = stack.find((c) => c !== transparent && c !== '(root)') ?? transparent;
      self.set(top, (self.get(top) ?? 0) + dt);
      for (const category of new Set(stack)) inclusive.set(category, (inclusive.get(category) ?? 0) + dt);
    });
  }
  const busy = total - (self.get('(idle)') ?? 0);
  const lines = [
    `profiled ${(total / 1e6).toFixed(2)} s, of which busy ${(busy / 1e6).toFixed(2)} s; self time of builtins`,
    'is charged to the nearest package frame above it; inclusive = any frame of the package on the stack',
  ];
  lines.push(
    `${'category'.padEnd(38)} ${'self ms'.padStart(9)} ${'% busy'.padStart(7)} ${'incl ms'.padStart(9)} ${'% busy'.padStart(7)}`,
  );
  for (const [name] of categories) {
    if (name === '(root)') continue;
    const s = self.get(name) ?? 0;
    const inc = inclusive.get(name) ?? 0;
    if (s === 0 && inc === 0) continue;
    const pct = (v: number): string => (name.startsWith('(') ? '' : `${((100 * v) / busy).toFixed(1)}%`);
    lines.push(
      `${name.padEnd(38)} ${(s / 1000).toFixed(0).padStart(9)} ${pct(s).padStart(7)} ${(inc / 1000).toFixed(0).padStart(9)} ${pct(inc).padStart(7)}`,
    );
  }
  return lines.join('\n');
}

if (require.main === module) {
  const files = process.argv.slice(2);
  console.log(`${files.length} profile(s): ${files.join(' ')}`);
  console.log(summariseCpuProfiles(files.map((file) => JSON.parse(readFileSync(file, 'utf8')) as Profile)));
}
