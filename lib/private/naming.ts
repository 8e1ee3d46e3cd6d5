/**
 * Construct ids derived from user-given names. Ids are a public contract (renaming one replaces
 * the resource), so every area derives them the same way.
 */

/** `ml-recommender` -> `MlRecommender`: construct ids stay PascalCase. */
export function pascalCase(name: string): string {
  return name.split(/[^A-Za-z0-9]+/).filter((p) => p.length > 0).map((p) => p[0].toUpperCase() + p.slice(1)).join('');
}
