import { ConfigurationError, StepFailedError, WorkflowCancelledError, WorkflowFailedError } from '../../../src';

describe('error messages', () => {
  it('a nested error is quoted without its final period, so no message contains ".."', () => {
    const step = new StepFailedError('order-1', 'charge#0', 3, new Error('card declined.'));
    const workflow = new WorkflowFailedError('order-1', step);
    const config = new WorkflowFailedError('order-2', new ConfigurationError('Bad option. Fix it.'));
    for (const error of [step, workflow, config]) expect(error.message).not.toContain('..');
    expect(workflow.message).toContain('StepFailedError: Step "charge#0" of run "order-1" failed after 3 attempt(s)');
  });

  it('a cancelled run says resume() runs it again, as the docs do', () => {
    expect(new WorkflowCancelledError('order-1').message).toBe(
      'Run "order-1" was cancelled. If that was a mistake, resume("order-1") runs it again from its checkpoints.',
    );
  });

  it('a failed run and a failed step point at resume()', () => {
    expect(new WorkflowFailedError('order-1', new Error('boom')).message).toMatch(/resume\(\) the run/);
    expect(new StepFailedError('order-1', 'charge#0', 1, new Error('boom')).message).toMatch(/resume\(\) the run\.$/);
  });
});
