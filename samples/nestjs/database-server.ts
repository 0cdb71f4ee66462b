// Stops the embedded PostgreSQL the sample started (a no-op on DATABASE_URL or a local server),
// last: Nest calls the root module's shutdown hooks after TypeORM closed its DataSource.
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ResolvedDatabaseUrl } from 'zart/testing';

@Injectable()
export class DatabaseServer implements OnApplicationShutdown {
  constructor(readonly database: ResolvedDatabaseUrl) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
