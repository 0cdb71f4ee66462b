// Wiring mistakes in a Nest app fail app.init() (or compile()), naming the workflow class and its
// module, instead of failing each run that reaches the worker.
import { Injectable, Module, Scope, type Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigurationError, Workflow } from 'zart';
import { ZartModule } from 'zart/nestjs';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

class Unprovided {}

@Injectable()
class Mailer {}

@Workflow({ name: 'wiring-forgotten' })
class ForgottenWorkflow {
  constructor(private readonly mailer: Mailer) {}
  async run(): Promise<boolean> {
    return Promise.resolve(this.mailer instanceof Mailer);
  }
}

/** Transient: Nest does not build it at boot, so only zart's check finds its missing dependency. */
@Injectable({ scope: Scope.TRANSIENT })
@Workflow({ name: 'wiring-transient' })
class TransientWorkflow {
  constructor(private readonly missing: Unprovided) {}
  async run(): Promise<boolean> {
    return Promise.resolve(this.missing !== undefined);
  }
}

async function initApp(providers: Provider[]): Promise<void> {
  @Module({ imports: [ZartModule.forRoot({ connectionString: db.url })], providers: [Mailer, ...providers] })
  class OrdersModule {}
  const moduleRef = await Test.createTestingModule({ imports: [OrdersModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  try {
    await app.init();
  } finally {
    await app.close();
  }
}

it('fails app.init() naming a @Workflow class that is not a provider', async () => {
  const init = initApp([TransientWorkflow, { provide: Unprovided, useValue: new Unprovided() }]);
  await expect(init).rejects.toThrow(ConfigurationError);
  await expect(init).rejects.toThrow(/not providers of any Nest module: ForgottenWorkflow\./);
});

it('fails app.init() naming the class and module when a workflow’s dependency is missing', async () => {
  const init = initApp([ForgottenWorkflow, TransientWorkflow]);
  await expect(init).rejects.toThrow(/TransientWorkflow.*OrdersModule/s);
  await expect(init).rejects.toThrow(ConfigurationError);
});

it('starts when every workflow is a provider with its dependencies', async () => {
  await expect(
    initApp([ForgottenWorkflow, TransientWorkflow, { provide: Unprovided, useValue: new Unprovided() }]),
  ).resolves.toBeUndefined();
});
