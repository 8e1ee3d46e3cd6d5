/**
 * A small parser of the fluentd configuration syntax, enough to check what the library generates:
 * `<directive arg>` ... `</directive>` sections, `key value` parameters and `#` comments.
 */
export interface Directive {
  readonly name: string;
  readonly arg: string;
  readonly params: Record<string, string>;
  readonly children: Directive[];
}

export function parseFluentdConfig(text: string): Directive[] {
  const root: Directive = { name: 'root', arg: '', params: {}, children: [] };
  const stack: Directive[] = [root];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const close = /^<\/([a-z_]+)>$/.exec(line);
    if (close) {
      const open = stack.pop()!;
      if (open.name !== close[1] || stack.length === 0) throw new Error(`line ${index + 1}: </${close[1]}> closes <${open.name}>`);
      return;
    }
    const openMatch = /^<([a-z_]+)(?:\s+([^>]*))?>$/.exec(line);
    if (openMatch) {
      const directive: Directive = { name: openMatch[1], arg: (openMatch[2] ?? '').trim(), params: {}, children: [] };
      stack[stack.length - 1].children.push(directive);
      stack.push(directive);
      return;
    }
    const param = /^(@?[a-z][a-z0-9_]*)\s+(.+)$/.exec(line);
    if (!param) throw new Error(`line ${index + 1}: cannot parse "${line}"`);
    const current = stack[stack.length - 1];
    if (param[1] in current.params) throw new Error(`line ${index + 1}: ${param[1]} set twice in <${current.name}>`);
    current.params[param[1]] = param[2];
  });
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
  return root.children;
}

/** Fluentd's tag matching: `*` is one tag part, `**` zero or more parts, `{a,b}` alternatives, spaces separate patterns. */
export function tagMatches(patterns: string, tag: string): boolean {
  return patterns.split(/\s+/).filter((p) => p.length > 0).some((pattern) => patternToRegExp(pattern).test(tag));
}

function patternToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      // "a.**" also matches "a": the dot before ** is optional.
      if (re.endsWith('\\.')) re = re.slice(0, -2) + '(\\..*)?';
      else re += '.*';
      i++;
    } else if (c === '*') re += '[^.]+';
    else if (c === '{') {
      const end = pattern.indexOf('}', i);
      re += `(${pattern.slice(i + 1, end).split(',').map((a) => a.replace(/\./g, '\\.')).join('|')})`;
      i = end;
    } else re += c.replace(/[.+?^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The first `<match>` that takes a tag: fluentd routes an event to the first match only. */
export function routeOf(config: Directive[], tag: string): Directive | undefined {
  return config.find((d) => d.name === 'match' && tagMatches(d.arg, tag));
}

/** The `<label name>` section, if any. */
export function labelOf(config: Directive[], name: string): Directive | undefined {
  return config.find((d) => d.name === 'label' && d.arg === name);
}

/**
 * Where fluentd 1.17 routes one of its own `fluent.*` events: to the first matching `<match>` in
 * `<label @FLUENT_LOG>` when that label exists, else to the first top-level match
 * (lib/fluent/fluent_log_event_router.rb).
 */
export function routeOfFluentdEvent(config: Directive[], tag: string): Directive | undefined {
  const label = labelOf(config, '@FLUENT_LOG');
  return routeOf(label ? label.children : config, tag);
}

/** Every `<buffer>` section, at any depth. */
export function buffersOf(config: Directive[]): Directive[] {
  return config.flatMap((d) => [...(d.name === 'buffer' ? [d] : []), ...buffersOf(d.children)]);
}

/** Every output (`<match>`) section. */
export function matchesOf(config: Directive[]): Directive[] {
  return config.filter((d) => d.name === 'match');
}

/** A CloudFormation string value (plain or Fn::Join) as text, with `<Ref>` / `<Logical.Attr>` for tokens. */
export function templateText(value: unknown): string {
  if (typeof value === 'string') return value;
  const o = value as Record<string, unknown>;
  if (Array.isArray(o['Fn::Join'])) {
    const [delimiter, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(templateText).join(delimiter);
  }
  if (o.Ref !== undefined) return `<${String(o.Ref)}>`;
  if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(value);
}
