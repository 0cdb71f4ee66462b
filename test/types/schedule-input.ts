// Type-level test, compiled by `npm run typecheck`: schedule() types the input against the
// workflow's run() (left out when it takes none), and its options are exactOptionalPropertyTypes-friendly.
import { Workflow, Schedule, Zart, type ScheduleInfo, type ScheduleOptions } from 'zart';

@Schedule('0 0 * * *', { timezone: 'Europe/Berlin', overlap: 'bufferOne', catchUp: 'all', maxCatchUp: 10 })
@Workflow()
export class Cleanup {
  async run(): Promise<number> {
    return Promise.resolve(0);
  }
}

@Workflow()
export class Digest {
  async run(input: { list: string }): Promise<string> {
    return Promise.resolve(input.list);
  }
}

export async function scheduling(zart: Zart, timezone: string | undefined): Promise<ScheduleInfo[]> {
  const options: ScheduleOptions = { timezone, overlap: undefined, catchUp: 'latest' };
  await zart.schedule('cleanup', '*/10 * * * * *', Cleanup);
  await zart.schedule('digest', '0 8 * * MON', Digest, { list: 'weekly' }, options);
  // @ts-expect-error the input of Digest is required
  await zart.schedule('digest', '0 8 * * MON', Digest);
  // @ts-expect-error the input must match run()'s parameter
  await zart.schedule('digest', '0 8 * * MON', Digest, { list: 7 });
  // @ts-expect-error no such overlap policy
  await zart.schedule('digest', '0 8 * * MON', Digest, { list: 'x' }, { overlap: 'queue' });
  await zart.schedule('by-name', '0 8 * * *', 'digest', { list: 'daily' });
  await zart.pauseSchedule('digest');
  await zart.resumeSchedule('digest');
  const removed: boolean = await zart.unschedule('cleanup');
  void removed;
  return zart.listSchedules();
}
