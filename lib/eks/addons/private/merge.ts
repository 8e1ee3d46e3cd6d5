/**
 * Deep-merges chart values: objects merge key by key, everything else (arrays included) is replaced,
 * and `overrides` wins. Keys are sorted so the synthesized template does not depend on insertion order.
 */
export function deepMerge(base: Record<string, unknown>, overrides: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = [...new Set([...Object.keys(base), ...Object.keys(overrides ?? {})])].sort();
  for (const key of keys) {
    const b = base[key];
    const o = overrides?.[key];
    if (overrides === undefined || !(key in overrides)) out[key] = isPlainObject(b) ? deepMerge(b, undefined) : b;
    else if (isPlainObject(b) && isPlainObject(o)) out[key] = deepMerge(b, o);
    else out[key] = o;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}
