// Type-level test, compiled by `npm run typecheck`: a workflow whose run() takes no input is
// started (and started as a child) without an input argument, while one that takes input still
// requires it. Each `@ts-expect-error` fails the compile if the line it guards compiles.
import {
  Workflow,
  Zart,
  startChild,
  startChildren,
  type WorkflowHandle,
  type ChildHandle,
  type ChildBatch,
} from 'zart';

@Workflow()
export class NightlyReport {
  async run(): Promise<{ rows: number }> {
    return Promise.resolve({ rows: 1 });
  }
}

@Workflow()
export class OptionalInput {
  async run(input?: { day: string }): Promise<string> {
    return Promise.resolve(input?.day ?? 'today');
  }
}

export class ChargeInput {
  amountCents!: number;
}

@Workflow({ input: ChargeInput })
export class Charge {
  async run(input: ChargeInput): Promise<string> {
    return Promise.resolve(`charged ${input.amountCents}`);
  }
}

export async function starts(zart: Zart): Promise<void> {
  const report: WorkflowHandle<{ rows: number }> = await zart.startWorkflow(NightlyReport);
  await zart.startWorkflow(NightlyReport, undefined, { id: 'nightly-2026-11-30' });
  const optional: WorkflowHandle<string> = await zart.startWorkflow(OptionalInput);
  await zart.startWorkflow(OptionalInput, { day: 'monday' });
  const charge: WorkflowHandle<string> = await zart.startWorkflow(Charge, { amountCents: 100 }, { id: 'c-1' });
  await zart.startWorkflow('nightly-report');

  // @ts-expect-error Charge takes an input: it cannot be left out.
  await zart.startWorkflow(Charge);
  // @ts-expect-error the input must have Charge's shape.
  await zart.startWorkflow(Charge, { amount: 100 });
  // @ts-expect-error options are an object.
  await zart.startWorkflow(NightlyReport, undefined, 'nightly');

  void [report, optional, charge];
}

export async function children(): Promise<void> {
  const child: ChildHandle<{ rows: number }> = await startChild(NightlyReport);
  await startChild(NightlyReport, undefined, { id: 'child-1' });
  await startChild(Charge, { amountCents: 5 });
  // @ts-expect-error Charge takes an input: it cannot be left out.
  await startChild(Charge);
  void child;
}

export async function batches(): Promise<void> {
  const charges: ChildBatch<string> = await startChildren(Charge, [{ amountCents: 5 }, { amountCents: 6 }]);
  const outputs: string[] = await charges.results();
  await startChildren(Charge, [{ amountCents: 5 }], { ids: ['charge-5'] });
  const reports: Array<{ rows: number }> = await (await startChildren(NightlyReport, [undefined, undefined])).results();
  // @ts-expect-error each input must have Charge's shape.
  await startChildren(Charge, [{ amount: 5 }]);
  // @ts-expect-error the outputs are strings.
  const wrong: number[] = await charges.results();
  void [outputs, reports, wrong];
}
