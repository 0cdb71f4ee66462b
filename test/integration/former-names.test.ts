import { Workflow, step } from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

@Workflow({ name: 'invoice-v2', formerNames: ['invoicing'] })
class Invoice {
  async run(input: { customer: string }): Promise<string> {
    return step('bill', () => `billed ${input.customer}`);
  }
}

describe('a renamed workflow', () => {
  it('claims and completes the runs started under its former name', async () => {
    // A run as the code before the rename started it: recorded under the old name.
    const client = await db.client();
    await client.startWorkflow(Invoice, { customer: 'c9' }, { id: 'renamed-1' });
    await db.sql.query(`UPDATE zart.runs SET workflow = 'invoicing' WHERE id = 'renamed-1'`);

    const zart = await db.zart();
    expect(await zart.getHandle('renamed-1').result({ timeout: '30s' })).toBe('billed c9');
    expect((await zart.getRun('renamed-1')).workflow).toBe('invoicing');
  });
});
