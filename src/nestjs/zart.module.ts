// ZartModule: a global Nest module that provides Zart (and ZartClient, the same instance) built
// from forRoot()/forRootAsync() options, resolves workflow instances from Nest, and ties Zart's
// start and shutdown to the application's lifecycle (zart-lifecycle.ts).
import { Module, type DynamicModule, type InjectionToken, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { Zart } from '../client/zart';
import { ZartClient } from '../client/zart-client';
import { ConfigurationError } from '../errors';
import type { ZartOptions } from '../options/resolve-options';
import { NestZartLogger } from './nest-zart-logger';
import { WorkflowInstances } from './workflow-instances';
import { ZartLifecycle } from './zart-lifecycle';
import {
  typeOrmDataSourceToken,
  zartModuleOptionsToken,
  type ZartModuleAsyncOptions,
  type ZartModuleOptions,
  type ZartModuleRootOptions,
} from './zart-module-options';

/** Zart in a Nest app: `Zart` and `ZartClient` injectable everywhere, workers tied to the app's lifecycle. */
@Module({})
export class ZartModule {
  /** Zart with options known up front. */
  static forRoot(options: ZartModuleRootOptions = {}): DynamicModule {
    const { typeOrmDataSource, ...zartOptions } = options;
    return ZartModule.build({ provide: zartModuleOptionsToken, useValue: zartOptions }, typeOrmDataSource, []);
  }

  /** Zart with options from a factory with injected providers (e.g. `ConfigService`). */
  static forRootAsync(options: ZartModuleAsyncOptions): DynamicModule {
    const factory = options.useFactory as (...injected: unknown[]) => ZartModuleOptions | Promise<ZartModuleOptions>;
    return ZartModule.build(
      { provide: zartModuleOptionsToken, useFactory: factory, inject: options.inject ?? [] },
      options.typeOrmDataSource,
      options.imports ?? [],
    );
  }

  private static build(
    optionsProvider: Provider,
    typeOrmDataSource: string | undefined,
    imports: NonNullable<DynamicModule['imports']>,
  ): DynamicModule {
    const inject: InjectionToken[] = [zartModuleOptionsToken, WorkflowInstances];
    if (typeOrmDataSource !== undefined) inject.push(typeOrmDataSourceToken(typeOrmDataSource));
    const zartProvider: Provider = {
      provide: Zart,
      inject,
      useFactory: (options: ZartModuleOptions, instances: WorkflowInstances, dataSource?: DataSource) =>
        new Zart(zartOptionsOf(options, instances, dataSource, typeOrmDataSource)),
    };
    return {
      module: ZartModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [
        optionsProvider,
        WorkflowInstances,
        zartProvider,
        { provide: ZartClient, useExisting: Zart },
        ZartLifecycle,
      ],
      exports: [Zart, ZartClient],
    };
  }
}

function zartOptionsOf(
  options: ZartModuleOptions,
  instances: WorkflowInstances,
  dataSource: DataSource | undefined,
  typeOrmDataSource: string | undefined,
): ZartOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError(
      `ZartModule options must be an object (from forRoot() or the useFactory of forRootAsync()), got ${options === null ? 'null' : typeof options}.`,
    );
  }
  if ('resolve' in options) {
    throw new ConfigurationError(
      'ZartModule resolves workflow instances from Nest: remove the resolve option and list each @Workflow class in the providers of its module.',
    );
  }
  if (dataSource !== undefined && (options.dataSource !== undefined || options.connectionString !== undefined)) {
    throw new ConfigurationError(
      `ZartModule was given typeOrmDataSource: '${typeOrmDataSource}' and also ${options.dataSource !== undefined ? 'dataSource' : 'connectionString'}. Keep one of them.`,
    );
  }
  return {
    logger: new NestZartLogger(),
    // Durations given as plain strings are checked by new Zart(), which names the bad option.
    ...(options as ZartOptions),
    ...(dataSource === undefined ? {} : { dataSource }),
    resolve: (target) => instances.resolve(target),
  };
}
