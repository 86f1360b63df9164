/**
 * nest-cli.json's `projects` in the order the user had them, with the
 * projects a schematic added after them: Nest's sub-app sorts them all by
 * name, which rewrites the whole file in a diff. `added` comes last (the app
 * just generated); other new ones (the default app a standard project moves
 * under apps/ when it becomes a monorepo) come before it, in the order given.
 */
export function inUserOrder<T>(
  projects: Readonly<Record<string, T>>,
  before: readonly string[],
  added: string,
): Record<string, T> {
  const names = Object.keys(projects);
  const order = [
    ...before.filter((name) => names.includes(name)),
    ...names.filter((name) => !before.includes(name) && name !== added),
    ...(names.includes(added) && !before.includes(added) ? [added] : []),
  ];
  return Object.fromEntries(order.map((name) => [name, projects[name]]));
}
