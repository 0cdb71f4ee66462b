import {
  ConfigurationError,
  Step,
  Workflow,
  WorkflowNotRegisteredError,
  registerStep,
  registerWorkflow,
} from '../../../src';
import { declarations } from '../../../src/registry/declarations';
import { WorkflowRegistry } from '../../../src/registry/workflow-registry';

describe('WorkflowRegistry.compile', () => {
  const saved = { ...declarations() };
  afterEach(() => {
    declarations().workflows = [...saved.workflows];
    declarations().steps = [...saved.steps];
  });

  it('finds workflows by class and by name, declared by decorator or by function', () => {
    @Workflow({ name: 'registry-a', version: '2' })
    class A {
      async run(): Promise<void> {}
    }
    class B {
      async run(): Promise<number> {
        return 1;
      }
    }
    registerWorkflow(B, { queue: 'reports' });
    const registry = WorkflowRegistry.compile();
    expect(registry.get(A)).toMatchObject({ name: 'registry-a', version: '2', queue: 'default' });
    expect(registry.get('B')).toMatchObject({ name: 'B', target: B, queue: 'reports' });
    expect(() => registry.get('missing')).toThrow(WorkflowNotRegisteredError);
  });

  it('rejects two workflows with one name, naming both classes', () => {
    @Workflow({ name: 'registry-twice' })
    class First {
      async run(): Promise<void> {}
    }
    @Workflow({ name: 'registry-twice' })
    class Second {
      async run(): Promise<void> {}
    }
    void First;
    void Second;
    expect(() => WorkflowRegistry.compile()).toThrow(/Two workflows are named "registry-twice": First and Second/);
  });

  it('rejects a workflow without run() and two steps with one name', () => {
    class NoRun {}
    registerWorkflow(NoRun);
    expect(() => WorkflowRegistry.compile()).toThrow(/NoRun has no run\(input\) method/);
    declarations().workflows.pop();

    class Billing {
      @Step({ name: 'charge' }) async charge(): Promise<void> {}
    }
    class Refunds {
      async charge(): Promise<void> {}
    }
    registerStep(Refunds, 'charge', { name: 'charge' });
    void Billing;
    expect(() => WorkflowRegistry.compile()).toThrow(ConfigurationError);
    expect(() => WorkflowRegistry.compile()).toThrow(/Two steps are named "charge": Billing.charge and Refunds.charge/);
  });

  it('rejects registerStep on something that is not a method', () => {
    class Plain {
      value = 1;
    }
    expect(() => registerStep(Plain, 'value')).toThrow(/Plain.value is not a method/);
  });
});
