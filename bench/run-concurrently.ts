// The client-side semaphore of the throughput workloads: `limit` loops pull task numbers from one
// counter, so exactly `limit` tasks are in flight until the last ones drain.
export async function runConcurrently(
  total: number,
  limit: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, total) }, loop));
}
