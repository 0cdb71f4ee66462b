// When Zart starts and stops inside a Nest app. It starts in onApplicationBootstrap, after every
// provider's onModuleInit, so no run is claimed before the services its steps use are ready. It
// stops in beforeApplicationShutdown: claiming stops and each run is handed back at its next step
// boundary while Nest's DataSources (closed in onApplicationShutdown) are still open, so SIGTERM
// with app.enableShutdownHooks() is a graceful redeploy in which no step runs twice.
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Zart } from '../client/zart';
import { WorkflowInstances } from './workflow-instances';
import { zartModuleOptionsToken, type ZartModuleOptions } from './zart-module-options';

/** @internal */
@Injectable()
export class ZartLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly zart: Zart,
    private readonly instances: WorkflowInstances,
    @Inject(zartModuleOptionsToken) private readonly options: ZartModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A client-only process executes no run: its workflow classes need not be providers.
    if (this.options.worker !== false) await this.instances.checkAtBoot();
    await this.zart.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.zart.shutdown();
  }
}
