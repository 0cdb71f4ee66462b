// The orders service: a Nest app with zart. `npm run sample:nestjs` starts it on DATABASE_URL, a
// local PostgreSQL, or an embedded one. Stop it with Ctrl-C (SIGINT) or SIGTERM mid-order: runs in
// flight are handed back at their next step boundary, and the next start resumes them; no step
// runs twice. Kill it with SIGKILL instead, and the next start resumes them after their lease.
import 'reflect-metadata';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { resolveDatabaseUrl } from 'zart/testing';
import { ZartExceptionFilter } from 'zart/nestjs';
import { AppModule } from './app.module';

async function main(): Promise<void> {
  const database = await resolveDatabaseUrl({ database: 'zart_nestjs_sample' });
  const app = await NestFactory.create(AppModule.forDatabase(database), { logger: ['log', 'warn', 'error'] });
  // SIGTERM and SIGINT close the app: zart hands runs back before HTTP and the DataSource close.
  app.enableShutdownHooks();
  app.useGlobalFilters(new ZartExceptionFilter(app.get(HttpAdapterHost)));
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  console.log(`PostgreSQL: ${database.source}${database.dataDir ? ` (data in ${database.dataDir})` : ''}`);
  console.log(
    `Try:  curl -s -X POST ${url}/orders -H 'content-type: application/json' -d '{"item":"teapot","quantity":2}'`,
  );
  console.log(`then: curl -s ${url}/orders/<id>   (stop this process mid-order and start it again)`);
  console.log(`Orders service listening on ${url}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
