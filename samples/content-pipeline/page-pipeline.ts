// The four stages every page goes through (fetch, validate, generate links, publish), as steps, and
// the site's table they publish into. The content source is simulated: a page's text is made up
// from its number, so the sample needs nothing but PostgreSQL.
import { setTimeout as delay } from 'node:timers/promises';
import { Step, stepTransaction } from 'zart';

export interface Page {
  site: string;
  number: number;
  title: string;
  body: string;
  /** Numbers of the pages this one mentions. */
  mentions: number[];
}

/** How many times a process executed each stage for a site: a redeploy must not make them add up to more than the pages. */
export interface StageCounts {
  fetched: number;
  validated: number;
  linked: number;
  published: number;
}

/** Thrown by `validate` for a page that cannot be published. `validate` has no retry policy: retrying would not fix it. */
export class InvalidPageError extends Error {
  override readonly name = 'InvalidPageError';
}

// The published site: one row per publication of a page. No unique key on purpose, so that a page
// published twice would show up as two rows instead of being hidden by a conflict.
export const createSiteTable = `
CREATE TABLE IF NOT EXISTS content_pipeline_pages (
  site         text NOT NULL,
  page         integer NOT NULL,
  title        text NOT NULL,
  links        integer NOT NULL,
  published_by integer NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS content_pipeline_pages_site ON content_pipeline_pages (site, page);
`;

// A content management system answers in a few milliseconds; the pause keeps the simulation honest
// about I/O without making the sample about waiting.
const fetchLatencyMs = 2;

export class PagePipeline {
  // Per site: a deployment also finishes the batches of a site an interrupted earlier run left.
  private readonly counts = new Map<string, StageCounts>();
  private publishedHere = 0;

  /** `onPublished` hears how many pages this process has published in all, after each one. */
  constructor(private readonly onPublished: (publishedHere: number) => void = () => undefined) {}

  countsBySite(): Record<string, StageCounts> {
    return Object.fromEntries(this.counts);
  }

  private countsOf(site: string): StageCounts {
    let counts = this.counts.get(site);
    if (!counts) this.counts.set(site, (counts = { fetched: 0, validated: 0, linked: 0, published: 0 }));
    return counts;
  }

  @Step({ retry: { maxAttempts: 3, initialDelay: '100ms' } })
  async fetch(site: string, number: number, totalPages: number): Promise<Page> {
    await delay(fetchLatencyMs);
    this.countsOf(site).fetched++;
    return {
      site,
      number,
      title: `Page ${number} of ${site}`,
      body: `This is page ${number}. It mentions pages ${(number * 7) % totalPages} and ${(number * 13 + 1) % totalPages}.`,
      mentions: [(number * 7) % totalPages, (number * 13 + 1) % totalPages],
    };
  }

  @Step()
  async validate(page: Page): Promise<{ words: number }> {
    this.countsOf(page.site).validated++;
    if (!page.title.trim() || !page.body.trim()) throw new InvalidPageError(`page ${page.number} has no title or body`);
    return { words: page.body.split(/\s+/).length };
  }

  @Step()
  async generateLinks(page: Page): Promise<string[]> {
    this.countsOf(page.site).linked++;
    return page.mentions.filter((other) => other !== page.number).map((other) => `/${page.site}/pages/${other}`);
  }

  // A transactional step: the row and the step's checkpoint commit together, so a page is published
  // exactly once even if the process is killed (SIGKILL) right after the INSERT.
  @Step({ transaction: true })
  async publish(page: Page, links: string[]): Promise<void> {
    await stepTransaction().query(
      'INSERT INTO content_pipeline_pages (site, page, title, links, published_by) VALUES ($1, $2, $3, $4, $5)',
      [page.site, page.number, page.title, links.length, process.pid],
    );
    this.countsOf(page.site).published++;
    this.onPublished(++this.publishedHere);
  }
}
