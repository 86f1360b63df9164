/*
 * English plurals and singulars of the dasherized names the schematics get
 * (`library`, `order-line`): only the last word changes. A few rules cover
 * the names apps and aggregates get; a short list holds the irregular ones.
 * No dependency: the one maintained-looking package for this has had no
 * release in years, and these are a dozen lines.
 */

const IRREGULAR: Readonly<Record<string, string>> = {
  person: 'people',
  child: 'children',
  man: 'men',
  woman: 'women',
  mouse: 'mice',
  goose: 'geese',
  foot: 'feet',
  tooth: 'teeth',
};

/** Words whose plural is the same word. */
const UNCHANGED = new Set([
  'data',
  'info',
  'news',
  'series',
  'species',
  'sheep',
  'fish',
  'equipment',
  'feedback',
  'inventory',
  'software',
  'staff',
]);

const SINGULAR_OF_IRREGULAR: Readonly<Record<string, string>> =
  Object.fromEntries(
    Object.entries(IRREGULAR).map(([one, many]) => [many, one]),
  );

/** Applies `change` to the last dash-separated word of `name`. */
function lastWord(name: string, change: (word: string) => string): string {
  const cut = name.lastIndexOf('-') + 1;
  return name.slice(0, cut) + change(name.slice(cut));
}

/** `library` gives `libraries`, `box` `boxes`, `status` `statuses`, `person` `people`. */
export function plural(name: string): string {
  return lastWord(name, (word) => {
    if (UNCHANGED.has(word)) return word;
    if (IRREGULAR[word]) return IRREGULAR[word];
    // category, library; but day, key, toy keep their y.
    if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
    // address, box, buzz, match, dish, status, bus.
    if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
    return `${word}s`;
  });
}

/** The reverse of `plural`: `libraries` gives `library`, a singular stays as it is. */
export function singular(name: string): string {
  return lastWord(name, (word) => {
    if (UNCHANGED.has(word)) return word;
    if (SINGULAR_OF_IRREGULAR[word]) return SINGULAR_OF_IRREGULAR[word];
    if (IRREGULAR[word]) return word;
    if (/[^aeiou]ies$/.test(word)) return `${word.slice(0, -3)}y`;
    // addresses, boxes, dishes, matches, statuses; but caches, niches and
    // houses only end in "e" + s.
    if (/(ss|x|z|sh|[^ai]ch|[^aeiou]us)es$/.test(word))
      return word.slice(0, -2);
    // Not "status", "address" or "analysis": their last s is not a plural's.
    if (/[^siu]s$/.test(word)) return word.slice(0, -1);
    return word;
  });
}
