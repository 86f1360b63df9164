import type { Path } from '@angular-devkit/core';
import type { Rule, Tree } from '@angular-devkit/schematics';
import {
  MetadataManager,
  ModuleDeclarator,
  ModuleFinder,
  ModuleImportDeclarator,
} from '@nestjs/schematics';

/** A generated class and the file it is in: `<directory>/<name>.<type>.ts`. */
export interface GeneratedClass {
  readonly className: string;
  readonly name: string;
  readonly type: string;
  readonly directory: Path;
}

/** The nearest `*.module.ts` at or above the directory, as the built-ins find it. */
function nearestModule(tree: Tree, generated: GeneratedClass): Path | null {
  return new ModuleFinder(tree).find({
    name: generated.name,
    path: generated.directory,
  });
}

/**
 * Adds the class to the `providers` of the nearest module, with its import,
 * through @nestjs/schematics' own ModuleDeclarator (what `nest g service`
 * does). Like the built-ins, nothing happens when no module is found.
 */
export function registerProvider(generated: GeneratedClass): Rule {
  return (tree) => {
    const module = nearestModule(tree, generated);
    if (!module) return tree;
    tree.overwrite(
      module,
      new ModuleDeclarator().declare(tree.readText(module), {
        metadata: 'providers',
        className: generated.className,
        name: generated.name,
        type: generated.type,
        path: generated.directory,
        module,
        isEsm: true,
      }),
    );
    return tree;
  };
}

const FOR_FEATURE = /ChronicleModule\.forFeature\(\s*\[([\s\S]*?)\]/;

/**
 * Adds an aggregate to the nearest module's `ChronicleModule.forFeature([...])`
 * (which gives it its repository), adding that import when the module has none.
 */
export function registerAggregate(generated: GeneratedClass): Rule {
  return (tree) => {
    const module = nearestModule(tree, generated);
    if (!module) return tree;
    let content = tree.readText(module);
    const listed = FOR_FEATURE.exec(content);
    if (listed) {
      const items = listed[1].trim().replace(/,$/, '');
      content = content.replace(
        FOR_FEATURE,
        `ChronicleModule.forFeature([${items ? `${items}, ` : ''}${generated.className}]`,
      );
    } else {
      content =
        new MetadataManager(content).insert(
          'imports',
          `ChronicleModule.forFeature([${generated.className}])`,
        ) ?? content;
      if (!/\bChronicleModule\b.*from '@chronicle\/core'/s.test(content)) {
        content = `import { ChronicleModule } from '@chronicle/core';\n${content}`;
      }
    }
    tree.overwrite(
      module,
      new ModuleImportDeclarator().declare(content, {
        metadata: 'imports',
        symbol: generated.className,
        name: generated.name,
        type: generated.type,
        path: generated.directory,
        module,
        isEsm: true,
      }),
    );
    return tree;
  };
}
