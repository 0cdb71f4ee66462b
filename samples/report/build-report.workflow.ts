// Builds a monthly report: sales first (it names the top products), then support tickets and web
// traffic for those products side by side, then the report itself. Each service's answer is a
// checkpoint: a server that takes over after a redeploy asks no service again for a part it has.
import { Step, Workflow } from 'zart';
import { ReportServices } from './report-services';

export interface Report {
  period: string;
  revenue: string;
  products: Array<{ name: string; supportTickets: number; pageViews: number }>;
}

export class ReportRenderer {
  @Step()
  async render(
    period: string,
    revenueCents: number,
    tickets: Record<string, number>,
    views: Record<string, number>,
  ): Promise<Report> {
    return {
      period,
      revenue: `${(revenueCents / 100).toFixed(2)} EUR`,
      products: Object.keys(tickets).map((name) => ({
        name,
        supportTickets: tickets[name] ?? 0,
        pageViews: views[name] ?? 0,
      })),
    };
  }
}

@Workflow({ name: 'monthly-report', timeout: '10m' })
export class BuildReport {
  constructor(
    private readonly services: ReportServices,
    private readonly renderer = new ReportRenderer(),
  ) {}

  async run(input: { period: string }): Promise<Report> {
    const sales = await this.services.sales(input.period);
    const [tickets, views] = await Promise.all([
      this.services.support(input.period, sales.topProducts),
      this.services.analytics(input.period, sales.topProducts),
    ]);
    return this.renderer.render(input.period, sales.revenueCents, tickets, views);
  }
}
