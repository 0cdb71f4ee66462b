// The options of ZartModule.forRoot()/forRootAsync(), and how they become the options of `new Zart()`:
// durations may be plain strings (read from configuration), checked at boot like every option.
import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { WorkerOptions, ZartOptions } from '../options/resolve-options';

/**
 * A `Duration` as written in code (`'30s'`, `500`), or as read from configuration, where it is a
 * plain string (`config.get<string>('ZART_DRAIN')`): checked at boot, so a malformed one fails
 * startup with a ConfigurationError naming the option.
 */
export type ConfiguredDuration = number | string;

/** Worker options of `ZartModule`: those of `new Zart()`, durations also as plain strings. */
export interface ZartModuleWorkerOptions extends Omit<
  WorkerOptions,
  'lease' | 'pollInterval' | 'drain' | 'maxInProcessWait'
> {
  /** How long a claim lasts without renewal. Default `'30s'`. */
  lease?: ConfiguredDuration;
  /** How often to look for runnable runs when nothing wakes the worker. Default `'1s'`. */
  pollInterval?: ConfiguredDuration;
  /**
   * How long shutdown (SIGTERM with `app.enableShutdownHooks()`, or `app.close()`) waits for runs
   * to reach their next step boundary before handing back the rest. Default `'30s'`.
   */
  drain?: ConfiguredDuration;
  /** Durable waits up to this long are held in-process. Default `'5s'`. */
  maxInProcessWait?: ConfiguredDuration;
}

/**
 * Options of `ZartModule`: those of `new Zart()` without `resolve` (workflow instances come from
 * Nest), durations also as plain strings. With none of `connectionString`, `dataSource` and the
 * module's `typeOrmDataSource`, `DATABASE_URL` is used.
 */
export interface ZartModuleOptions extends Omit<
  ZartOptions,
  'resolve' | 'worker' | 'connectTimeout' | 'statementTimeout'
> {
  /** `false` for a process that only starts and inspects runs (an API-only deployment). */
  worker?: false | ZartModuleWorkerOptions;
  connectTimeout?: ConfiguredDuration;
  statementTimeout?: ConfiguredDuration;
}

/** What forRoot() and forRootAsync() have in common. */
export interface ZartModuleSharedOptions {
  /**
   * Use the DataSource that `@nestjs/typeorm` provides under this name (`'default'` for
   * `TypeOrmModule.forRoot()` without a name): no connection settings repeated. Zart keeps its
   * tables in its own schema of that database.
   */
  typeOrmDataSource?: string;
}

/** Options of `ZartModule.forRoot()`. */
export interface ZartModuleRootOptions extends ZartModuleOptions, ZartModuleSharedOptions {}

/** Options of `ZartModule.forRootAsync()`: the options come from a factory with injected providers. */
export interface ZartModuleAsyncOptions extends ZartModuleSharedOptions, Pick<ModuleMetadata, 'imports'> {
  /** Providers passed to `useFactory`, in order (e.g. `ConfigService`). */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Returns the options; its parameters are the `inject` providers. */
  useFactory: (...injected: never[]) => ZartModuleOptions | Promise<ZartModuleOptions>;
}

/** @internal The token of the options the factory (or forRoot) produced. */
export const zartModuleOptionsToken = Symbol.for('zart.nestjs.module-options');

/** @internal @nestjs/typeorm's token for a named DataSource: the DataSource class for the default one. */
export function typeOrmDataSourceToken(name: string): InjectionToken {
  return name === 'default' ? DataSource : `${name}DataSource`;
}
