// Publishing a site: one parent run fans out to child runs of `batchSize` pages each; a child takes
// its pages `parallelPages` at a time through the four stages. How many batches execute at once is
// bounded by each worker's `concurrency` (see main.ts), so memory and connections stay flat whatever
// the number of pages.
import { Workflow, startChildren } from 'zart';
import { PagePipeline } from './page-pipeline';

export interface SiteInput {
  site: string;
  pages: number;
  batchSize: number;
  parallelPages: number;
}

export interface BatchInput {
  site: string;
  firstPage: number;
  /** Exclusive. */
  endPage: number;
  totalPages: number;
  parallelPages: number;
}

@Workflow({ name: 'publish-batch' })
export class PublishBatch {
  constructor(private readonly pipeline: PagePipeline) {}

  async run(batch: BatchInput): Promise<number> {
    for (let first = batch.firstPage; first < batch.endPage; first += batch.parallelPages) {
      const numbers = range(first, Math.min(first + batch.parallelPages, batch.endPage));
      // Stage by stage, each stage over the group in parallel. Not one async chain per page: a step's
      // key is its name and its call count, so calls must happen in the same order on every replay,
      // and "validate" calls made as each fetch happens to finish would not.
      const pages = await Promise.all(numbers.map((n) => this.pipeline.fetch(batch.site, n, batch.totalPages)));
      await Promise.all(pages.map((page) => this.pipeline.validate(page)));
      const links = await Promise.all(pages.map((page) => this.pipeline.generateLinks(page)));
      await Promise.all(pages.map((page, i) => this.pipeline.publish(page, links[i]!)));
    }
    return batch.endPage - batch.firstPage;
  }
}

@Workflow({ name: 'publish-site' })
export class PublishSite {
  async run(input: SiteInput): Promise<{ pages: number; batches: number }> {
    const batches: BatchInput[] = [];
    for (let first = 0; first < input.pages; first += input.batchSize) {
      const endPage = Math.min(first + input.batchSize, input.pages);
      batches.push({
        site: input.site,
        firstPage: first,
        endPage,
        totalPages: input.pages,
        parallelPages: input.parallelPages,
      });
    }
    // All the batches start in one durable call, exactly once however often this run is replayed;
    // while they run, this run is parked, holds no worker, and is woken once, by the last batch.
    const children = await startChildren(PublishBatch, batches);
    const published = await children.results();
    return { pages: published.reduce((sum, n) => sum + n, 0), batches: children.ids.length };
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
