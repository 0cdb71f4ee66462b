// Samples this process's CPU (V8's profiler through node:inspector) around one measured segment
// only, so a profile shows the workload rather than module loading and set-up. Enabled by
// BENCH_CPU_PROFILE=<directory>; read the files with cpu-profile-summary.js.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

export class CpuProfiler {
  private constructor(
    private readonly session: Session,
    private readonly directory: string,
  ) {}

  /** A profiler writing into BENCH_CPU_PROFILE, or undefined when it is not set. */
  static async fromEnvironment(): Promise<CpuProfiler | undefined> {
    const directory = process.env.BENCH_CPU_PROFILE;
    if (!directory) return undefined;
    mkdirSync(directory, { recursive: true });
    const session = new Session();
    session.connect();
    await post(session, 'Profiler.enable');
    return new CpuProfiler(session, directory);
  }

  /** Profiles `work` and writes `<name>.cpuprofile`. */
  async profile<T>(name: string, work: () => Promise<T>): Promise<T> {
    await post(this.session, 'Profiler.start');
    try {
      return await work();
    } finally {
      const { profile } = (await post(this.session, 'Profiler.stop')) as { profile: unknown };
      writeFileSync(join(this.directory, `${name}.cpuprofile`), JSON.stringify(profile));
    }
  }

  close(): void {
    this.session.disconnect();
  }
}

function post(session: Session, method: string): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
  );
}
