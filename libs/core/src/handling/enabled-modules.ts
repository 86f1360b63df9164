import {
  Inject,
  Injectable,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { Module } from '@nestjs/core/injector/module.js';
import {
  TRANSPORT_OPTIONS,
  type ResolvedTransportOptions,
} from '../transport/index.js';
import { UnknownEnabledModuleError } from './handling.errors.js';

/** `OrdersModule`, `orders`, `Orders-Module` all name the same module. */
function normalize(name: string): string {
  return name
    .replace(/Module$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

const CHRONICLE_INTERNAL = 'chronicle:internal-module';

/** Marks one of Chronicle's own modules: what it runs, it runs in every process. */
export function ChronicleInternalModule(): ClassDecorator {
  return (target) => Reflect.defineMetadata(CHRONICLE_INTERNAL, true, target);
}

/** Reads `CHRONICLE_ENABLED=orders,billing` when no option says otherwise. */
export function enabledModulesFrom(
  option: readonly string[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): readonly string[] | undefined {
  if (option) return option;
  const fromEnv = env.CHRONICLE_ENABLED?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return fromEnv && fromEnv.length > 0 ? fromEnv : undefined;
}

/** Whether a provider class is work of one kind (a handler, a consumer...). */
export type WorkPredicate = (type: Type | Function) => boolean;

/**
 * Which modules run their handlers, consumers and schedule handlers in this
 * process. `enabled` (or `CHRONICLE_ENABLED`) names modules; a named module
 * is enabled with every module it imports, and theirs, down the tree: a
 * provider runs here when its own module, or any module that imports it (up
 * to the root), is named. A global module counts as imported only where it is
 * listed in `imports`, not everywhere Nest makes it visible. Chronicle's own
 * modules are always enabled. With no names, everything is.
 *
 * Each part that runs work registers what its work looks like; at module init
 * every name must enable some of it, or the app refuses to start.
 */
@Injectable()
export class EnabledModules implements OnModuleInit {
  private readonly kinds = new Map<string, WorkPredicate>();
  private enabledSet?: ReadonlySet<Module>;

  constructor(
    private readonly modules: ModulesContainer,
    @Inject(TRANSPORT_OPTIONS)
    private readonly options: ResolvedTransportOptions,
  ) {}

  /** Registers a kind of work (e.g. "consumers"); called by the parts that run it. */
  countAsWork(kind: string, isWork: WorkPredicate): void {
    this.kinds.set(kind, isWork);
  }

  /** Whether the provider's module is enabled in this process. */
  isEnabled(wrapper: InstanceWrapper): boolean {
    if (!this.options.enabled) return true;
    const host = wrapper.host;
    return host !== undefined && this.enabled().has(host);
  }

  onModuleInit(): void {
    const names = this.options.enabled;
    if (!names) return;
    const holding = this.modulesHoldingWork();
    const known = new Map<string, Module>();
    for (const module of holding) known.set(normalize(module.name), module);
    const unknown = names.filter((name) => !known.has(normalize(name)));
    if (unknown.length > 0) {
      throw new UnknownEnabledModuleError(
        unknown,
        [...holding].map((m) => m.name).sort(),
        this.options.enabledFrom ?? 'enabled',
        [...this.kinds.keys()],
      );
    }
  }

  /** The named modules, the modules below them, and Chronicle's own. */
  private enabled(): ReadonlySet<Module> {
    if (this.enabledSet) return this.enabledSet;
    const names = new Set((this.options.enabled ?? []).map(normalize));
    const roots = [...this.modules.values()].filter(
      (m) => names.has(normalize(m.name)) || isInternal(m),
    );
    this.enabledSet = this.below(roots);
    return this.enabledSet;
  }

  /**
   * The user's modules that, once named, enable some work: those holding a
   * handler, consumer or schedule handler, and those importing one that does.
   */
  private modulesHoldingWork(): Set<Module> {
    const holding = new Set<Module>();
    for (const module of this.modules.values()) {
      if (isInternal(module) || !module.metatype) continue;
      const tree = this.below([module]);
      if ([...tree].some((m) => !isInternal(m) && this.holdsWork(m)))
        holding.add(module);
    }
    return holding;
  }

  private holdsWork(module: Module): boolean {
    for (const wrapper of module.providers.values()) {
      const type =
        (wrapper.instance as object | undefined)?.constructor ??
        wrapper.metatype;
      if (typeof type !== 'function') continue;
      for (const isWork of this.kinds.values()) if (isWork(type)) return true;
    }
    return false;
  }

  /** The modules and everything they import, transitively. */
  private below(start: readonly Module[]): Set<Module> {
    const seen = new Set<Module>();
    const stack = [...start];
    while (stack.length > 0) {
      const module = stack.pop() as Module;
      if (seen.has(module)) continue;
      seen.add(module);
      stack.push(...importsOf(module));
    }
    return seen;
  }
}

function isInternal(module: Module): boolean {
  return Boolean(
    module.metatype && Reflect.getMetadata(CHRONICLE_INTERNAL, module.metatype),
  );
}

/**
 * The modules `module` imports. Nest adds every global module to every
 * module's imports; of those, only the ones `module` lists itself count.
 */
export function importsOf(module: Module): Module[] {
  const declared = declaredImports(module);
  return [...module.imports].filter(
    (imported) =>
      !imported.isGlobal ||
      declared === 'unknown' ||
      declared.has(imported.metatype),
  );
}

type DeclaredImport =
  | Type
  | { module: Type }
  | { forwardRef: () => Type }
  | Promise<unknown>
  | undefined;

/**
 * The classes listed in a module's `imports`: its decorator's and, for a
 * dynamic module, those it returned. The latter sit only in Nest's container
 * (a non-public field of the module); a spec pins it, so an upgrade that
 * moves it fails loudly there. `unknown` when a listed import is a promise.
 */
function declaredImports(module: Module): Set<unknown> | 'unknown' {
  const container = (
    module as unknown as {
      container?: {
        getDynamicMetadataByToken?(token: string, key: 'imports'): unknown;
      };
    }
  ).container;
  const dynamic = container?.getDynamicMetadataByToken?.(
    module.token,
    'imports',
  );
  const listed = [
    ...((Reflect.getMetadata('imports', module.metatype) as unknown[]) ?? []),
    ...(Array.isArray(dynamic) ? (dynamic as unknown[]) : []),
  ] as DeclaredImport[];
  const classes = new Set<unknown>();
  for (const item of listed) {
    if (item instanceof Promise) return 'unknown';
    if (typeof item === 'function') classes.add(item);
    else if (item && 'forwardRef' in item) classes.add(item.forwardRef());
    else if (item && 'module' in item) classes.add(item.module);
  }
  return classes;
}
