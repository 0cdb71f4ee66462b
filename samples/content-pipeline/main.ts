// The content pipeline: publishes N pages (default 20,000) through fetch, validate, generate links
// and publish, in batches of child runs executed by a "deployment" (a worker process). Halfway, it
// redeploys: the first deployment gets SIGTERM, finishes the steps in flight and hands its batches
// back; a second one takes over. At the end it checks, from the database, that every page was
// published exactly once and that no stage ran twice for any page, and prints pages per second.
//
//   npm run sample:content-pipeline -- --pages 200000 --concurrency 8
//
// Options: --pages, --batch-size (pages per child run), --parallel (pages of a batch in flight),
// --concurrency (batches a deployment executes at once), --redeploy-at (share of the pages, 0 = never).
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { Zart, ZartClient } from 'zart';
import { resolveDatabaseUrl } from 'zart/testing';
import { createSiteTable, PagePipeline, type StageCounts } from './page-pipeline';
import { ProgressBar } from './progress-bar';
import { PublishBatch, PublishSite } from './publish-site.workflow';

interface PipelineOptions {
  pages: number;
  batchSize: number;
  parallel: number;
  concurrency: number;
  redeployAt: number;
}

/** What a deployment tells the main process through the IPC channel. */
type DeploymentMessage =
  { kind: 'ready' } | { kind: 'reached'; published: number } | { kind: 'stopped'; counts: Record<string, StageCounts> };

interface Deployment {
  number: number;
  process: ChildProcess;
  ready: Promise<void>;
  /** The deployment has published the pages it was asked to redeploy after (their number). */
  reached: Promise<number>;
  /** The deployment's stage counts per site, once it has shut down. */
  stopped: Promise<Record<string, StageCounts>>;
}

async function main(options: PipelineOptions): Promise<boolean> {
  const database = await resolveDatabaseUrl({ database: 'zart_content_pipeline' });
  console.log(`PostgreSQL: ${database.source}${database.dataDir ? ` (data in ${database.dataDir})` : ''}`);
  const sql = new Client({ connectionString: database.url });
  const client = new ZartClient({ connectionString: database.url });
  const deployments: Deployment[] = [];
  try {
    await sql.connect();
    await sql.query(createSiteTable);
    await client.start();

    const site = `site-${Date.now().toString(36)}`;
    const batches = Math.ceil(options.pages / options.batchSize);
    console.log(
      `Publishing ${options.pages.toLocaleString('en')} pages of "${site}": ${batches} batches of ${options.batchSize} pages, ` +
        `${options.parallel} pages of a batch at a time, ${options.concurrency} batches at a time per deployment.`,
    );
    const bar = new ProgressBar(options.pages, 'pages');
    const redeployAfter = Math.ceil(options.pages * options.redeployAt);
    deployments.push(startDeployment(1, database.url, options, bar, redeployAfter));
    await deployments[0]!.ready;
    // Deployment 1 says when it has published that many pages, from its publish step: a look at the
    // table every 250 ms could find the site already finished on a fast machine.
    deployments[0]!.reached.then(
      (published) => {
        bar.print(
          `\nRedeploying at ${published.toLocaleString('en')} pages: SIGTERM to deployment 1, starting deployment 2.`,
        );
        deployments[0]!.process.kill('SIGTERM');
        deployments.push(startDeployment(2, database.url, options, bar, 0));
      },
      () => undefined,
    );

    const startedAt = Date.now();
    const handle = await client.startWorkflow(
      PublishSite,
      { site, pages: options.pages, batchSize: options.batchSize, parallelPages: options.parallel },
      { id: site },
    );
    let finished = false;
    const outcome = handle.result().finally(() => (finished = true));
    while (!finished) {
      await Promise.race([outcome.catch(() => undefined), delay(250)]);
      bar.update(await countPublished(sql, site));
    }
    const result = await outcome;
    const seconds = (Date.now() - startedAt) / 1000;
    bar.update(await countPublished(sql, site));
    bar.finish();

    const last = deployments[deployments.length - 1]!;
    // Not before it is up: a process still loading has no SIGTERM handler, and would just die.
    await last.ready;
    last.process.kill('SIGTERM');
    const none: StageCounts = { fetched: 0, validated: 0, linked: 0, published: 0 };
    const counts = (await Promise.all(deployments.map((deployment) => deployment.stopped))).map((c) => c[site] ?? none);
    console.log(
      `\nDone: ${result.pages.toLocaleString('en')} pages in ${result.batches} batches, ${seconds.toFixed(1)} s, ` +
        `${Math.round(result.pages / seconds)} pages/s.`,
    );
    return await verify(sql, site, options.pages, counts);
  } finally {
    for (const deployment of deployments) deployment.process.kill('SIGKILL');
    await client.shutdown();
    await sql.end();
    await database.close();
  }
}

// Each stage must have run once per page in all deployments together, and the site must hold each
// page once: a stage that ran twice for a page would show in the sums, a page published twice as
// an extra row.
async function verify(sql: Client, site: string, pages: number, counts: StageCounts[]): Promise<boolean> {
  counts.forEach((c, i) =>
    console.log(
      `  deployment ${i + 1}: fetched ${c.fetched}, validated ${c.validated}, linked ${c.linked}, published ${c.published}`,
    ),
  );
  const stages = ['fetched', 'validated', 'linked', 'published'] as const;
  const totals = stages.map((stage) => counts.reduce((sum, c) => sum + c[stage], 0));
  const { rows } = await sql.query<{ publications: number; distinct_pages: number }>(
    'SELECT count(*)::int AS publications, count(DISTINCT page)::int AS distinct_pages FROM content_pipeline_pages WHERE site = $1',
    [site],
  );
  const { publications, distinct_pages: distinctPages } = rows[0]!;
  const ok = totals.every((total) => total === pages) && publications === pages && distinctPages === pages;
  console.log(
    ok
      ? `Every page was published exactly once (${publications} rows for ${distinctPages} pages), and no stage ran twice for any page.`
      : `MISMATCH: stages ran ${totals.join('/')} times, the site has ${publications} rows for ${distinctPages} of ${pages} pages.`,
  );
  return ok;
}

async function countPublished(sql: Client, site: string): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM content_pipeline_pages WHERE site = $1',
    [site],
  );
  return rows[0]!.n;
}

// A deployment is this same program in another process, so that SIGTERM hits a real worker.
// `redeployAfter`: the pages after which it says 'reached' (0: never).
function startDeployment(
  number: number,
  url: string,
  options: PipelineOptions,
  bar: ProgressBar,
  redeployAfter: number,
): Deployment {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      __filename,
      'deployment',
      `--number=${number}`,
      `--concurrency=${options.concurrency}`,
      `--redeploy-after=${redeployAfter}`,
    ],
    { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) =>
    text
      .trimEnd()
      .split('\n')
      .forEach((line) => bar.print(line)),
  );
  const ready = nextMessage(child, 'ready').then(() => undefined);
  const reached = nextMessage(child, 'reached').then((message) => message.published);
  const stopped = nextMessage(child, 'stopped').then((message) => message.counts);
  // Rejections are observed where the promises are awaited; these keep an early exit from being unhandled.
  ready.catch(() => undefined);
  reached.catch(() => undefined);
  stopped.catch(() => undefined);
  return { number, process: child, ready, reached, stopped };
}

function nextMessage<K extends DeploymentMessage['kind']>(
  child: ChildProcess,
  kind: K,
): Promise<Extract<DeploymentMessage, { kind: K }>> {
  return new Promise((resolve, reject) => {
    child.on('message', (message: DeploymentMessage) => {
      if (message.kind === kind) resolve(message as Extract<DeploymentMessage, { kind: K }>);
    });
    child.on('exit', (code, signal) => reject(new Error(`a deployment exited (${signal ?? code}) before "${kind}"`)));
  });
}

// One deployment: a worker that executes batches until SIGTERM, then shuts down gracefully. It
// tells the main process once it has published `redeployAfter` pages (0: never).
async function runDeployment(number: number, concurrency: number, redeployAfter: number): Promise<void> {
  const say = (line: string): void => console.log(`  deployment ${number} (pid ${process.pid}): ${line}`);
  const pipeline = new PagePipeline((published) => {
    if (published === redeployAfter) process.send!({ kind: 'reached', published } satisfies DeploymentMessage);
  });
  const zart = new Zart({
    // The connection comes from DATABASE_URL, set by the main process.
    poolSize: 20,
    worker: { concurrency },
    // Each batch run gets the process's pipeline, which counts what this process executed.
    resolve: (workflow) => (workflow === PublishBatch ? new PublishBatch(pipeline) : new PublishSite()),
  });
  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say(why);
    // Graceful: no new claims; the steps in flight finish and checkpoint; each run is handed back
    // at its next step boundary, so the next deployment resumes it at once and repeats no step.
    await zart.shutdown();
    const counts = pipeline.countsBySite();
    const published = Object.values(counts).reduce((sum, c) => sum + c.published, 0);
    say(`stopped; this process published ${published} pages`);
    const stopped: DeploymentMessage = { kind: 'stopped', counts };
    process.send!(stopped, () => process.exit(0));
  };
  process.once('SIGTERM', () => void stop('SIGTERM: finishing the steps in flight, then handing the batches back'));
  process.once('disconnect', () => void stop('the main process is gone: shutting down'));
  await zart.start();
  say(`started, executing up to ${concurrency} batches at once`);
  const ready: DeploymentMessage = { kind: 'ready' };
  process.send!(ready);
}

function parseOptions(args: string[]): PipelineOptions {
  const { values } = parseArgs({
    args,
    options: {
      pages: { type: 'string', default: '20000' },
      'batch-size': { type: 'string', default: '250' },
      parallel: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '8' },
      'redeploy-at': { type: 'string', default: '0.5' },
    },
  });
  const options = {
    pages: Number(values.pages),
    batchSize: Number(values['batch-size']),
    parallel: Number(values.parallel),
    concurrency: Number(values.concurrency),
    redeployAt: Number(values['redeploy-at']),
  };
  for (const [name, value] of Object.entries(options)) {
    const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (name === 'redeployAt' ? !(value >= 0 && value < 1) : !(Number.isInteger(value) && value > 0)) {
      const expected = name === 'redeployAt' ? 'a share of the pages from 0 (never) to below 1' : 'a positive integer';
      console.error(`${flag} must be ${expected}, got "${values[flag.slice(2) as keyof typeof values]}".`);
      process.exit(2);
    }
  }
  return options;
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'deployment') {
  const { values } = parseArgs({
    args: rest,
    options: { number: { type: 'string' }, concurrency: { type: 'string' }, 'redeploy-after': { type: 'string' } },
  });
  runDeployment(Number(values.number), Number(values.concurrency), Number(values['redeploy-after'] ?? 0)).catch(
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  main(parseOptions(process.argv.slice(2))).then(
    (ok) => process.exit(ok ? 0 : 1),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
