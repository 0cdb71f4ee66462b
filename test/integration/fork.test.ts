import { Workflow, step } from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();
const executed: string[] = [];
let price = 10;

@Workflow({ name: 'fork-order' })
class Order {
  async run(input: { item: string }): Promise<string> {
    const reserved = await step('reserve', () => {
      executed.push('reserve');
      return `reserved ${input.item}`;
    });
    const charged = await step('charge', () => {
      executed.push('charge');
      return `charged ${price}`;
    });
    return `${reserved}, ${charged}`;
  }
}

describe('fork', () => {
  it('starts a new run that reuses the checkpoints before a step and executes from it', async () => {
    const zart = await db.zart();
    expect(await (await zart.startWorkflow(Order, { item: 'book' }, { id: 'order-1' })).result()).toBe(
      'reserved book, charged 10',
    );
    price = 12; // the bug is fixed; charge again from the charge step
    const forked = await zart.fork<string>('order-1', { fromStep: 'charge#0', id: 'order-1-again' });
    expect(await forked.result({ timeout: '20s' })).toBe('reserved book, charged 12');
    expect(executed).toEqual(['reserve', 'charge', 'charge']);
    expect((await zart.getRun('order-1')).output).toBe('reserved book, charged 10');
    await expect(zart.fork('order-1', { fromStep: 'nope#0' })).rejects.toThrow(
      'Run "order-1" has no step "nope#0" to fork from; its steps are: reserve#0, charge#0.',
    );
    await expect(zart.fork('missing', { fromStep: 'charge#0' })).rejects.toThrow('No run with id "missing"');
    await expect(zart.fork('order-1', { fromStep: 'charge#0', id: 'order-1-again' })).rejects.toThrow(
      'A run with id "order-1-again" exists already',
    );
  });
});
