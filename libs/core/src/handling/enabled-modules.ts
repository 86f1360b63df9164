import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';

/** `OrdersModule`, `orders`, `Orders-Module` all name the same module. */
function normalize(name: string): string {
  return name
    .replace(/Module$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/**
 * Whether a provider's module is enabled in this process. `enabled` lists
 * module names (`['orders', 'billing']` enables OrdersModule and BillingModule);
 * undefined enables every module.
 */
export function isModuleEnabled(
  wrapper: InstanceWrapper,
  enabled: readonly string[] | undefined,
): boolean {
  if (!enabled) return true;
  const host = wrapper.host?.metatype;
  if (!host) return false;
  if (Reflect.getMetadata(CHRONICLE_INTERNAL, host)) return true;
  return enabled.map(normalize).includes(normalize(host.name));
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
