// The dashboard end to end in a real headless browser (Debian's chromium, driven by playwright-core;
// no browser download): sign in, filter the runs list, open a run and read its timeline, see stored
// markup rendered as text, and cancel a run through the UI, checked in the database.
// Skips, saying why, when chromium is absent. UPDATE_SCREENSHOTS=1 writes docs/images/dashboard-*.png.
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createZartHttpHandler, sleep, startChild, Step, step, waitForEvent, Workflow, type Zart } from '../../src';
import { silentLogger } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const chromiumPath = process.env.ZART_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) {
  console.warn(
    `Skipping the dashboard browser test: no chromium at ${chromiumPath}. Install it (apt-get install -y chromium) or set ZART_CHROMIUM to a Chromium executable.`,
  );
}
const describeWithChromium = haveChromium ? describe : describe.skip;

const db = useTestDatabase();
const token = 'browser-test-token-0123456789';
const screenshots = process.env.UPDATE_SCREENSHOTS
  ? join(__dirname, '..', '..', 'docs', 'images')
  : mkdtempSync(join(tmpdir(), 'zart-shots-'));

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const failedOnce = new Set<string>();

class Inventory {
  @Step()
  async reserve(sku: string): Promise<{ sku: string; reservation: string }> {
    await pause(120);
    return { sku, reservation: `R-${sku}` };
  }
}

class Payments {
  @Step({ retry: { maxAttempts: 3, backoff: 'fixed', initialDelay: '150ms' } })
  async charge(order: string, amountCents: number): Promise<{ chargeId: string; amountCents: number }> {
    await pause(90);
    // The first attempt of each order's charge fails: the timeline shows the retry.
    if (!failedOnce.has(order)) {
      failedOnce.add(order);
      throw new Error('payment provider timed out');
    }
    return { chargeId: `ch_${order}`, amountCents };
  }
}

@Workflow({ name: 'send-receipt' })
class SendReceipt {
  async run(input: { order: string }): Promise<string> {
    return step('Mailer.send', async () => {
      await pause(60);
      return `receipt for ${input.order} sent`;
    });
  }
}

@Workflow({ name: 'checkout' })
class Checkout {
  private readonly inventory = new Inventory();
  private readonly payments = new Payments();

  async run(input: { order: string; amountCents: number; note: string }): Promise<{ chargeId: string }> {
    await this.inventory.reserve(`sku-${input.order}`);
    const charge = await this.payments.charge(input.order, input.amountCents);
    await step('Orders.annotate', () => ({
      note: input.note,
      lines: Array.from({ length: 400 }, (_, i) => `line ${i}`),
    }));
    await sleep('400ms');
    await (await startChild(SendReceipt, { order: input.order })).result();
    if (input.order.startsWith('hold')) await waitForEvent('shipped');
    await step('Shipping.label', async () => {
      await pause(80);
      return { label: `L-${input.order}` };
    });
    return { chargeId: charge.chargeId };
  }
}

@Workflow({ name: 'refund' })
class Refund {
  async run(input: { order: string }): Promise<void> {
    await step('Payments.lookup', () => ({ order: input.order }));
    await step('Payments.refund', () => {
      throw new Error(`refund of ${input.order} refused: <img src=x onerror="window.__zartXss = 1">`);
    });
  }
}

let zart: Zart;
let server: Server;
let browser: Browser;
let page: Page;
let base: string;

async function runStatus(id: string): Promise<string> {
  const { rows } = await db.sql.query<{ status: string }>('SELECT status FROM zart.runs WHERE id = $1', [id]);
  return rows[0]!.status;
}

// What the checks read of page elements (the project compiles without the DOM library).
interface PageElement {
  getAttribute(name: string): string | null;
  classList: { contains(name: string): boolean };
  querySelector(selector: string): PageElement | null;
  textContent: string | null;
}

async function rowIds(): Promise<string[]> {
  return page
    .locator('#runs-table tbody tr[data-run-id]')
    .evaluateAll((rows: PageElement[]) => rows.map((row) => row.getAttribute('data-run-id')!));
}

describeWithChromium('dashboard in a browser', () => {
  beforeAll(async () => {
    zart = await db.zart();
    const note = '<script>window.__zartXss = 1</script><b>bold?</b>';
    await zart.startWorkflow(Checkout, { order: 'A-1001', amountCents: 4200, note }, { id: 'order-A-1001' });
    await zart.startWorkflow(
      Checkout,
      { order: 'A-1002', amountCents: 1999, note: 'gift wrap' },
      { id: 'order-A-1002' },
    );
    await zart.startWorkflow(
      Checkout,
      { order: 'hold-1003', amountCents: 500, note: 'hold' },
      { id: 'order-hold-1003' },
    );
    await zart.startWorkflow(Refund, { order: 'A-0999' }, { id: 'refund-A-0999' });
    await waitFor(async () => {
      const statuses: string[] = [];
      for (const id of ['order-A-1001', 'order-A-1002', 'order-hold-1003', 'refund-A-0999']) {
        statuses.push(await runStatus(id));
      }
      return statuses.join() === 'completed,completed,waiting,failed';
    }, 60_000);

    const handler = createZartHttpHandler(zart, { auth: { token }, logger: silentLogger });
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('asks for the token, refuses a wrong one, and lists the runs with the right one', async () => {
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    await page.goto(base);
    await page.locator('#token').fill('wrong-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token was not accepted').waitFor();
    await page.locator('#token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#runs-table tbody tr[data-run-id="order-A-1001"]').waitFor();
    expect((await rowIds()).sort()).toEqual([
      'order-A-1001',
      'order-A-1001/zart.child#0',
      'order-A-1002',
      'order-A-1002/zart.child#0',
      'order-hold-1003',
      'order-hold-1003/zart.child#0',
      'refund-A-0999',
    ]);
    // The page's own script and styles pass its Content-Security-Policy.
    expect(blocked).toEqual([]);
  });

  it('filters by status and workflow, keeping the filters in the address', async () => {
    await page.locator('button.chip[data-status="failed"]').click();
    await waitFor(async () => (await rowIds()).join() === 'refund-A-0999');
    await expect(page.locator('tr[data-run-id="refund-A-0999"] .error-cell').textContent()).resolves.toMatch(
      /Payments\.refund.*refused: <img src=x onerror/,
    );
    expect(new URL(page.url()).hash).toBe('#/runs?status=failed');
    await page.locator('button.chip[data-status="failed"]').click();
    await page.locator('input[name="workflow"]').fill('send-receipt');
    await waitFor(async () => (await rowIds()).length === 3);
    expect((await rowIds()).every((id) => id.endsWith('/zart.child#0'))).toBe(true);
    await page.locator('input[name="workflow"]').fill('');
    await waitFor(async () => (await rowIds()).length === 7);
    await page.locator('input[name="workflow"]').blur();
    await page.screenshot({ path: join(screenshots, 'dashboard-runs.png') });
  });

  it('opens a run and draws its timeline: a bar per step, retries counted, waits as dashed gaps', async () => {
    await page.locator('a[href="#/runs/order-A-1001"]').click();
    await page.locator('#timeline').waitFor();
    expect(await page.locator('#run-id').textContent()).toBe('order-A-1001');
    const rows = await page.locator('#timeline g.step-row').evaluateAll((groups: PageElement[]) =>
      groups.map((g) => ({
        key: g.getAttribute('data-step-key'),
        status: g.getAttribute('data-status'),
        wait: g.classList.contains('wait'),
        width: Number(g.querySelector('rect.bar')?.getAttribute('width') ?? 0),
        attempts: g.querySelector('text.attempts')?.textContent ?? null,
      })),
    );
    expect(rows.map((r) => [r.key, r.status, r.wait])).toEqual([
      ['Inventory.reserve#0', 'completed', false],
      ['Payments.charge#0', 'completed', false],
      ['Orders.annotate#0', 'completed', false],
      ['zart.sleep#0', 'sleeping', true],
      ['zart.child#0', 'completed', false],
      ['zart.child-result:order-A-1001/zart.child#0#0', 'completed', true],
      ['Shipping.label#0', 'completed', false],
    ]);
    expect(rows.find((r) => r.key === 'Payments.charge#0')!.attempts).toBe('×2');
    for (const row of rows.filter((r) => !r.wait)) expect(row.width).toBeGreaterThanOrEqual(2);
    // The sleep's span reaches its wake time: the gap is drawn, not squeezed out.
    const sleepSpan = await page
      .locator('#timeline g.step-row[data-step-key="zart.sleep#0"] line.wait-line')
      .evaluate((line: PageElement) => Number(line.getAttribute('x2')) - Number(line.getAttribute('x1')));
    expect(sleepSpan).toBeGreaterThan(20);
    await page.locator('#timeline').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(screenshots, 'dashboard-run.png'), fullPage: true });
  });

  it('renders stored markup as text and cuts long values with a button that loads the rest', async () => {
    const input = page.locator('.values-grid .card', { hasText: 'Input' }).locator('pre.value');
    await expect(input.textContent()).resolves.toContain('"note": "<script>window.__zartXss = 1</script><b>bold?</b>"');
    expect(await page.locator('main script, main b, main img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __zartXss?: number }).__zartXss)).toBeUndefined();

    const annotate = page.locator('details[data-step-key="Orders.annotate#0"]');
    await annotate.locator('summary').click();
    await expect(annotate.locator('pre.value').textContent()).resolves.toMatch(/…$/);
    await annotate.getByRole('button', { name: /Load all/ }).click();
    await annotate.getByText('"line 399"').waitFor();

    await page.goto(`${base}#/runs/refund-A-0999`);
    await page.locator('.error-box .error-headline').first().waitFor();
    await expect(page.locator('.error-box').first().textContent()).resolves.toContain(
      'refund of A-0999 refused: <img src=x onerror="window.__zartXss = 1">',
    );
    await expect(page.locator('.error-box pre.stack').first().textContent()).resolves.toMatch(/\n\s+at /);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __zartXss?: number }).__zartXss)).toBeUndefined();
  });

  it('cancels a waiting run through its Cancel button, and the database says cancelled', async () => {
    expect(await runStatus('order-hold-1003')).toBe('waiting');
    await page.goto(`${base}#/runs/order-hold-1003`);
    await page.locator('#run-id', { hasText: 'order-hold-1003' }).waitFor();
    expect(await page.locator('button[data-action="resume"]').isDisabled()).toBe(true);
    await page.locator('button[data-action="cancel"]').click();
    await page.locator('dialog[open]').getByText('stop at their next step boundary').waitFor();
    await page.locator('dialog[open]').getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('#toast').getByText('Cancelled run order-hold-1003.').waitFor();
    expect(await runStatus('order-hold-1003')).toBe('cancelled');
    await page.locator('.run-status .badge.status-cancelled').waitFor();
    expect(await page.locator('button[data-action="cancel"]').isDisabled()).toBe(true);
    expect(await page.locator('button[data-action="resume"]').isDisabled()).toBe(false);
  });
});
