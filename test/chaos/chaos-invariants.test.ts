// The chaos checks themselves, on hand-made observations (no database): a clean history passes,
// and each kind of broken history is caught, so a green chaos run means something.
import type { StepCheckpoint, WorkflowRun } from '../../src';
import { planIteration, type ChaosPlan } from './chaos-plan';
import { checkInvariants, type ExecutionRow, type FaultWindow, type Observations } from './chaos-invariants';

const plan: ChaosPlan = { ...planIteration(7, { faultPhaseMs: 15_000, leaseMs: 1_000, workers: 3 }), runs: [] };

function run(id: string, output: unknown, status: WorkflowRun['status'] = 'completed'): WorkflowRun {
  return { id, workflow: 'chaos-steps', status, output, parentId: null } as WorkflowRun;
}

function checkpoint(key: string, seq: number, output: string, finishedAt: number): StepCheckpoint {
  return {
    key,
    seq,
    name: key.split('#')[0]!,
    status: 'completed',
    output,
    finishedAt: new Date(finishedAt),
  } as StepCheckpoint;
}

function execution(
  id: string,
  key: string,
  pid: number,
  epoch: number,
  start: number,
  end: number | null,
): ExecutionRow {
  return {
    exec_id: id,
    run_id: 'r',
    step_key: key,
    attempt: 1,
    pid,
    epoch,
    owner: null,
    started_ms: start,
    ended_ms: end,
    epoch_read_ms: start + 2,
  };
}

const t = 1_000_000;

/** Run r: two steps, executed by pid 1 under epoch 1, checkpointed right after each. */
function clean(): Observations {
  return {
    plan,
    runs: new Map([
      [
        'r',
        {
          run: run('r', { executions: ['a', 'b'] }),
          steps: [checkpoint('work#0', 0, 'a', t + 110), checkpoint('work#1', 1, 'b', t + 230)],
        },
      ],
    ]),
    executions: [execution('a', 'work#0', 1, 1, t, t + 100), execution('b', 'work#1', 1, 1, t + 120, t + 220)],
    ledger: [],
    events: [],
    faults: [],
    stuck: [],
    cancelledAtMs: new Map(),
    leaseMs: 1_000,
  };
}

const invariantsOf = (o: Observations): string[] => checkInvariants(o).map((v) => v.invariant);

describe('chaos invariants', () => {
  it('pass on a clean history', () => {
    expect(checkInvariants(clean())).toEqual([]);
  });

  it('flag a run that is not final', () => {
    const o = clean();
    o.stuck = ['r'];
    expect(invariantsOf(o)).toContain('run reaches a final status');
  });

  it('flag a completed step executed again on a worker no fault hit, and allow it after a kill', () => {
    const o = clean();
    o.executions.push(execution('a2', 'work#0', 2, 2, t + 50, t + 150));
    expect(invariantsOf(o)).toContain('a step runs again only after a fault');

    const killed = clean();
    killed.executions.push(execution('a0', 'work#0', 3, 0, t - 500, null));
    const kill: FaultWindow = { kind: 'kill', pid: 3, startMs: t - 200, endMs: t - 200 };
    killed.faults = [kill];
    expect(checkInvariants(killed)).toEqual([]);
  });

  it('flag a run output that differs from its checkpoints (a replay that ignored one)', () => {
    const o = clean();
    o.runs.get('r')!.run.output = { executions: ['a', 'other'] };
    expect(invariantsOf(o)).toContain('replays return the checkpointed outputs');
  });

  it('flag a checkpoint written by a superseded lease (a zombie whose write was accepted)', () => {
    const o = clean();
    // pid 2 claimed (epoch 2) and started work#1 before pid 1's checkpoint of work#1 was written.
    o.executions.push(execution('b2', 'work#1', 2, 2, t + 150, t + 400));
    o.faults = [{ kind: 'stop', pid: 1, startMs: t + 121, endMs: t + 200 }];
    expect(invariantsOf(o)).toContain('fencing: no checkpoint from a superseded lease');
  });

  it('flag two executions of one run at once without a fault', () => {
    const o = clean();
    o.executions[1] = execution('b', 'work#1', 2, 1, t + 50, t + 220);
    expect(invariantsOf(o)).toContain('no run in two executions at once');
  });

  it('flag a transactional step that wrote twice, or without a checkpoint', () => {
    const o = clean();
    const observed = o.runs.get('r')!;
    observed.steps = [checkpoint('ledger#0', 0, 'a', t + 110), checkpoint('work#1', 1, 'b', t + 230)];
    o.executions[0] = execution('a', 'ledger#0', 1, 1, t, t + 100);
    o.ledger = [
      { run_id: 'r', step_key: 'ledger#0', exec_id: 'a', pid: 1 },
      { run_id: 'r', step_key: 'ledger#0', exec_id: 'x', pid: 2 },
      { run_id: 'r', step_key: 'ledger#1', exec_id: 'y', pid: 2 },
    ];
    const found = checkInvariants(o).filter((v) => v.invariant === 'transactional step writes exactly once');
    expect(found).toHaveLength(2);
  });

  it('flag a child started twice', () => {
    const o = clean();
    o.runs.get('r')!.steps.push({ ...checkpoint('zart.child#0', 2, 'r/zart.child#0', t + 240), name: 'zart.child' });
    for (const id of ['r/zart.child#0', 'r/zart.child#0-again']) {
      o.runs.set(id, { run: { ...run(id, { executions: [] }), parentId: 'r' }, steps: [] });
    }
    expect(invariantsOf(o)).toContain('children are started exactly once');
  });
});
