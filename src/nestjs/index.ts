// Public surface of `zart/nestjs`: explicit named re-exports only. Nothing here is loaded by
// `zart` itself, so apps without Nest never load @nestjs/*.
export { ZartModule } from './zart.module';
export type {
  ZartModuleOptions,
  ZartModuleRootOptions,
  ZartModuleAsyncOptions,
  ZartModuleSharedOptions,
  ZartModuleWorkerOptions,
  ConfiguredDuration,
} from './zart-module-options';
export { NestZartLogger } from './nest-zart-logger';
export { ZartExceptionFilter, httpStatusOf, type ZartErrorResponse } from './zart-exception-filter';
