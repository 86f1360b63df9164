import { InvalidFieldPathError } from './documents.errors.js';

const SEGMENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const MAX_DEPTH = 8;

/**
 * The segments of a dotted field path, checked. Paths are written into SQL
 * text (as a literal `text[]`), not passed as parameters: an index on a JSON
 * path serves a query only when the query's expression is the index's, word
 * for word. The check is what makes that safe: a segment is a plain name.
 */
export function fieldPathSegments(path: string): readonly string[] {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidFieldPathError(String(path), 'is empty');
  }
  const segments = path.split('.');
  if (segments.length > MAX_DEPTH) {
    throw new InvalidFieldPathError(
      path,
      `is ${segments.length} fields deep (at most ${MAX_DEPTH})`,
    );
  }
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) {
      throw new InvalidFieldPathError(
        path,
        segment === ''
          ? 'has an empty field name'
          : `has the field name "${segment}"`,
      );
    }
  }
  return segments;
}

/** `(body #> '{a,b}'::text[])`: the JSON at a path, the same text wherever it is used so indexes match. */
export function jsonAt(path: string): string {
  return `(body #> '{${fieldPathSegments(path).join(',')}}'::text[])`;
}

/** `(body #>> '{a,b}'::text[])`: the text at a path. */
export function textAt(path: string): string {
  return `(body #>> '{${fieldPathSegments(path).join(',')}}'::text[])`;
}
