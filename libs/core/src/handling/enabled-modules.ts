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
  const host = wrapper.host?.metatype?.name;
  if (!host) return false;
  return enabled.map(normalize).includes(normalize(host));
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
