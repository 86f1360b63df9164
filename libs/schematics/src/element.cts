import { strings } from '@angular-devkit/core';
import {
  apply,
  applyTemplates,
  chain,
  filter,
  mergeWith,
  move,
  noop,
  SchematicsException,
  url,
  type Rule,
  type Tree,
} from '@angular-devkit/schematics';
import { formatWritten } from './formatting.cjs';
import {
  registerAggregate,
  registerProvider,
  type GeneratedClass,
} from './module-registration.cjs';
import {
  resolveTarget,
  type Target,
  type TargetOptions,
} from './workspace.cjs';

/** The options every element schematic takes (the Nest CLI passes most of them). */
export interface ElementOptions extends TargetOptions {
  readonly spec?: boolean;
  readonly specFileSuffix?: string;
  readonly skipImport?: boolean;
  readonly language?: string;
}

/** What differs between the element schematics. */
export interface ElementKind {
  /** `command`, `query`...: in messages and in the name of the main file. */
  readonly kind: string;
  /** How the element is made known to its module. */
  readonly registers:
    | {
        readonly as: 'provider';
        readonly type: string;
        readonly suffix: string;
      }
    | { readonly as: 'aggregate' }
    | { readonly as: 'nothing' };
  /** More template values, found in the workspace (the consumer's event). */
  readonly templateValues?: (
    tree: Tree,
    target: Target & { readonly name: string },
  ) => Record<string, string>;
}

/**
 * One rule for all element schematics: resolve where the files go and which
 * app names the message types, write this schematic's `files/` templates
 * there, register the element in the nearest module, then format what was
 * written or changed.
 */
export function elementSchematic(
  element: ElementKind,
  options: ElementOptions,
): Rule {
  return (tree) => {
    if (options.language !== undefined && options.language !== 'ts') {
      throw new SchematicsException(
        `Chronicle schematics write TypeScript; this workspace's language is "${options.language}".`,
      );
    }
    const target = resolveTarget(tree, options, element.kind);
    const className = strings.classify(target.name);
    const specFileSuffix = options.specFileSuffix ?? 'spec';
    const generated = (type: string, suffix = ''): GeneratedClass => ({
      className: `${className}${suffix}`,
      name: target.name,
      type,
      directory: target.directory,
    });
    const { registers } = element;
    const register =
      options.skipImport === true || registers.as === 'nothing'
        ? noop()
        : registers.as === 'aggregate'
          ? registerAggregate(generated('aggregate'))
          : registerProvider(generated(registers.type, registers.suffix));
    const templates = apply(url('./files'), [
      options.spec === false
        ? filter((path) => !path.endsWith('.__specFileSuffix__.ts.template'))
        : noop(),
      applyTemplates({
        ...strings,
        name: target.name,
        className,
        app: target.app,
        typeName: `${target.app}.${className}`,
        specFileSuffix,
        ...element.templateValues?.(tree, target),
      }),
      move(target.directory),
    ]);
    // Always formatted, with the workspace's Prettier when it has one: the
    // module declarator inserts unformatted lines, and line breaks depend on
    // the length of the names, which no template can know.
    return chain([register, mergeWith(templates), formatWritten()]);
  };
}
