// Pairs each declared @Workflow class with the Nest provider that lists it (DiscoveryService), checks
// at boot that every one of them can be built, and builds a fresh instance for each execution of a
// run, with its constructor dependencies injected from the module that provides it.
import { Injectable } from '@nestjs/common';
import { ContextIdFactory, DiscoveryService, ModuleRef } from '@nestjs/core';
import { ConfigurationError, describeCause } from '../errors';
import { declarations, type AnyClass } from '../registry/declarations';

type ProviderWrapper = ReturnType<DiscoveryService['getProviders']>[number];

interface WorkflowProvider {
  /** The ModuleRef of the module whose providers list the class: its dependencies come from there. */
  readonly moduleRef: ModuleRef;
  readonly moduleName: string;
}

/** @internal Resolves workflow instances from Nest for the `resolve` option of Zart. */
@Injectable()
export class WorkflowInstances {
  private readonly providers = new Map<AnyClass, WorkflowProvider>();

  constructor(private readonly discovery: DiscoveryService) {}

  /**
   * Finds the provider of every declared workflow and builds one instance of each, so that a
   * wiring mistake fails `app.init()` naming the class and module, never a run.
   */
  async checkAtBoot(): Promise<void> {
    const byClass = new Map<unknown, ProviderWrapper>();
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.metatype && !byClass.has(wrapper.metatype)) byClass.set(wrapper.metatype, wrapper);
    }
    const missing: string[] = [];
    for (const { target } of declarations().workflows) {
      const wrapper = byClass.get(target);
      const host = wrapper?.host;
      if (!host) {
        missing.push(target.name);
        continue;
      }
      const moduleRef = host.getProviderByKey<ModuleRef>(ModuleRef).instance;
      this.providers.set(target, { moduleRef, moduleName: host.name });
    }
    if (missing.length > 0) {
      throw new ConfigurationError(
        `These @Workflow classes are not providers of any Nest module: ${missing.join(', ')}. ` +
          'Add each to the providers of the module whose services it injects (its runs would fail otherwise).',
      );
    }
    for (const target of this.providers.keys()) await this.resolve(target);
  }

  /** A new instance of `target` for one execution; each execution has its own DI context. */
  async resolve(target: AnyClass): Promise<object> {
    const provider = this.providers.get(target);
    if (!provider) {
      throw new ConfigurationError(
        `Workflow class ${target.name} was declared after the Nest application started. Declare it in a module the app imports.`,
      );
    }
    try {
      return await provider.moduleRef.create(target as never, ContextIdFactory.create());
    } catch (error) {
      throw new ConfigurationError(
        `Nest cannot build workflow class ${target.name} in module ${provider.moduleName}: ${describeCause(error)}. ` +
          `Check the constructor dependencies of ${target.name} are provided to ${provider.moduleName}.`,
        { cause: error },
      );
    }
  }
}
