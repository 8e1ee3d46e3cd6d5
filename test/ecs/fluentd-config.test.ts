import { AggregatorConfig, BufferConfig, ForwarderConfig, fluentdCommand, renderAggregatorConfig, renderForwarderConfig } from '../../lib/ecs/logging/private/fluentd-config';
import { buffersOf, matchesOf, parseFluentdConfig, routeOf, tagMatches } from './support/fluentd-parser';

const buffer: BufferConfig = { rootPath: '/fluentd/buffer', failedPath: '/fluentd/buffer/failed', flushIntervalSeconds: 5, retryMaxIntervalSeconds: 30, retryTimeoutSeconds: 3600, totalLimitMiB: 2048 };
const forwarder: ForwarderConfig = {
  listenPort: 24224,
  bindAddress: '127.0.0.1',
  routes: [
    { logType: 'rails', host: 'rails.logging.internal', port: 24224 },
    { logType: 'nginx', host: 'nginx.logging.internal', port: 24224 },
    { logType: 'job', host: 'job.logging.internal', port: 24224 },
  ],
  defaultLogType: 'rails',
  buffer,
};

/** The aggregator host a tag ends up at, read back from the parsed forwarder configuration. */
function hostsFor(text: string, tag: string): string[] {
  const match = routeOf(parseFluentdConfig(text), tag);
  return (match?.children ?? []).filter((c) => c.name === 'server').map((s) => s.params.host);
}

describe('fluentd config parser (test support)', () => {
  test('reads nested sections and parameters', () => {
    // GIVEN
    const text = '<match a.**>\n  @type forward\n  <server>\n    host h\n  </server>\n</match>\n';
    // WHEN
    const parsed = parseFluentdConfig(text);
    // THEN
    expect(parsed).toEqual([{ name: 'match', arg: 'a.**', params: { '@type': 'forward' }, children: [{ name: 'server', arg: '', params: { host: 'h' }, children: [] }] }]);
  });

  test('fails when a section is closed by the wrong tag', () => {
    expect(() => parseFluentdConfig('<match **>\n</source>\n')).toThrow('</source> closes <match>');
  });

  test('fails when a section is never closed', () => {
    expect(() => parseFluentdConfig('<match **>\n  @type null\n')).toThrow('<match> is never closed');
  });

  test.each([
    ['rails rails.**', 'rails', true],
    ['rails rails.**', 'rails.access', true],
    ['rails rails.**', 'railsx', false],
    ['**', 'anything.at.all', true],
    ['a.*', 'a.b.c', false],
    ['{a,b}.x', 'b.x', true],
  ])('pattern "%s" matching tag "%s" is %s, as in fluentd', (pattern, tag, expected) => {
    expect(tagMatches(pattern, tag)).toBe(expected);
  });
});

describe('forwarder configuration', () => {
  const text = renderForwarderConfig(forwarder);
  const parsed = parseFluentdConfig(text);

  test('routes every log type, and its sub-tags, to its own aggregator only', () => {
    for (const route of forwarder.routes) {
      expect(hostsFor(text, route.logType)).toEqual([route.host]);
      expect(hostsFor(text, `${route.logType}.access`)).toEqual([route.host]);
    }
  });

  test('no aggregator receives more than one known log type', () => {
    const typesPerHost = new Map<string, string[]>();
    for (const route of forwarder.routes) {
      for (const host of hostsFor(text, route.logType)) typesPerHost.set(host, [...(typesPerHost.get(host) ?? []), route.logType]);
    }
    expect([...typesPerHost.values()].every((types) => types.length === 1)).toBe(true);
    expect(typesPerHost.size).toBe(forwarder.routes.length);
  });

  test('sends tags of no log type to the default log type\'s aggregator', () => {
    expect(hostsFor(text, 'sidekiq.unknown')).toEqual(['rails.logging.internal']);
  });

  test('compresses what it forwards', () => {
    for (const m of matchesOf(parsed)) expect(m.params.compress).toBe('gzip');
  });

  test('listens on the loopback address only', () => {
    const source = parsed.find((d) => d.name === 'source')!;
    expect(source.params).toEqual({ '@type': 'forward', port: '24224', bind: '127.0.0.1' });
  });

  test('buffers every output on file, flushes at shutdown, and keeps failed chunks in secondary_file', () => {
    const buffers = buffersOf(parsed);
    expect(buffers).toHaveLength(forwarder.routes.length + 1);
    for (const b of buffers) {
      expect(b.params).toMatchObject({ '@type': 'file', flush_at_shutdown: 'true', retry_type: 'exponential_backoff', retry_timeout: '3600s' });
    }
    expect(new Set(buffers.map((b) => b.params.path)).size).toBe(buffers.length);
    for (const m of matchesOf(parsed)) {
      expect(m.children.find((c) => c.name === 'secondary')?.params['@type']).toBe('secondary_file');
    }
  });

  test('fails when the default log type has no route', () => {
    expect(() => renderForwarderConfig({ ...forwarder, defaultLogType: 'audit' })).toThrow('defaultLogType audit has no route');
  });
});

describe('aggregator configuration', () => {
  const s3: AggregatorConfig = { logType: 'rails', listenPort: 24224, buffer, s3: { bucketName: 'logs-bucket', region: 'us-east-1', prefix: 'logs/rails/', timeSliceSeconds: 300 } };

  test('writes S3 objects under the log type\'s prefix with unique names, from a file buffer', () => {
    const [source, match] = parseFluentdConfig(renderAggregatorConfig(s3)).filter((d) => d.name !== 'system');
    expect(source.params).toMatchObject({ '@type': 'forward', bind: '0.0.0.0', port: '24224' });
    expect(match.params).toMatchObject({ '@type': 's3', s3_bucket: 'logs-bucket', path: 'logs/rails/%Y/%m/%d/', check_bucket: 'false' });
    expect(match.params.s3_object_key_format).toContain('%{uuid_flush}');
    expect(buffersOf([match])[0].params).toMatchObject({ '@type': 'file', flush_at_shutdown: 'true', timekey: '300', flush_mode: 'lazy', chunk_limit_size: '256m' });
    expect(buffersOf([match])[0].params.flush_interval).toBeUndefined();
    expect(match.children.find((c) => c.name === 'secondary')?.params).toEqual({ '@type': 'secondary_file', directory: '/fluentd/buffer/failed/output' });
  });

  test('writes to a CloudWatch Logs group from a file buffer', () => {
    const text = renderAggregatorConfig({ logType: 'job', listenPort: 24224, buffer, cloudWatch: { logGroupName: 'jobs', region: 'us-east-1' } });
    const match = matchesOf(parseFluentdConfig(text))[0];
    expect(match.params).toMatchObject({ '@type': 'cloudwatch_logs', log_group_name: 'jobs', auto_create_stream: 'true' });
    expect(buffersOf([match])[0].params['@type']).toBe('file');
  });

  test('fails when an aggregator has no output or two', () => {
    expect(() => renderAggregatorConfig({ logType: 'x', listenPort: 1, buffer })).toThrow('aggregator x needs exactly one output');
  });
});

test('the container command writes the configuration from the environment before starting fluentd', () => {
  expect(fluentdCommand('CONF', '/tmp/f.conf', ['--gemfile', '/fluentd/Gemfile']))
    .toBe('printf \'%s\' "$CONF" > /tmp/f.conf && exec fluentd -c /tmp/f.conf --gemfile /fluentd/Gemfile');
});
