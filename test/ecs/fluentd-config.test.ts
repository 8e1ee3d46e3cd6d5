import { Stack } from 'aws-cdk-lib';
import { AggregatorConfig, BufferConfig, ForwarderConfig, fluentdCommand, OverflowAction, renderAggregatorConfig, renderForwarderConfig, TelemetryConfig } from '../../lib/ecs/logging/private/fluentd-config';
import { reviewableText } from '../../lib/ecs/logging/private/fluentd-container';
import { buffersOf, labelOf, matchesOf, parseFluentdConfig, routeOf, routeOfFluentdEvent, tagMatches } from './support/fluentd-parser';

const buffer: BufferConfig = { rootPath: '/fluentd/buffer', failedPath: '/fluentd/buffer/failed', flushIntervalSeconds: 5, retryMaxIntervalSeconds: 30, totalLimitMiB: 2048, overflowAction: OverflowAction.THROW_EXCEPTION };
const telemetry: TelemetryConfig = { fleet: 'TestFleet', monitorPort: 24220, emitIntervalSeconds: 60 };
/** Every level fluentd tags its own events with. */
const FLUENT_EVENT_TAGS = ['fluent.trace', 'fluent.debug', 'fluent.info', 'fluent.warn', 'fluent.error', 'fluent.fatal'];
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
  ackTimeoutSeconds: 60,
  telemetry,
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
      expect(b.params).toMatchObject({ '@type': 'file', flush_at_shutdown: 'true', retry_type: 'exponential_backoff', retry_forever: 'true' });
    }
    expect(new Set(buffers.map((b) => b.params.path)).size).toBe(buffers.length);
    for (const m of matchesOf(parsed)) {
      expect(m.children.find((c) => c.name === 'secondary')?.params['@type']).toBe('secondary_file');
    }
  });

  test('every forward output starts while its aggregator name has no DNS answer, and re-resolves it', () => {
    // fluentd 1.17 out_forward raises SocketError at start-up for an unresolvable <server> host
    // unless ignore_network_errors_at_startup is set; the heartbeat then resolves it later.
    const outputs = matchesOf(parsed);
    expect(outputs).toHaveLength(forwarder.routes.length + 1);
    for (const m of outputs) {
      expect(m.params).toMatchObject({ '@type': 'forward', ignore_network_errors_at_startup: 'true', heartbeat_type: 'transport', dns_round_robin: 'true' });
      expect(Number(m.params.expire_dns_cache)).toBeGreaterThan(0);
      expect(Number(m.params.expire_dns_cache)).toBeLessThanOrEqual(30);
    }
  });

  test('every forward output waits for the aggregator\'s acknowledgement (at-least-once)', () => {
    for (const m of matchesOf(parsed)) {
      expect(m.params).toMatchObject({ require_ack_response: 'true', ack_response_timeout: '60s' });
    }
  });

  test('no buffer drops chunks silently when full: the forwarder refuses one type\'s new records, with a counted warning', () => {
    for (const b of buffersOf(parsed)) {
      expect(b.params.overflow_action).toBe('throw_exception');
    }
    expect(text).not.toContain('drop_oldest_chunk');
    const grep = labelOf(parsed, '@FLUENT_LOG')!.children.find((d) => d.name === 'filter' && d.params['@type'] === 'grep')!;
    // The warning fluentd 1.17 logs on overflow: "failed to write data into buffer by buffer overflow".
    expect(new RegExp(grep.children[0].params.pattern.slice(1, -1)).test('[forward_rails] failed to write data into buffer by buffer overflow action=:throw_exception')).toBe(true);
  });

  test('fluentd\'s own fluent.* events never reach an application output, at any level', () => {
    for (const tag of FLUENT_EVENT_TAGS) {
      const route = routeOfFluentdEvent(parsed, tag)!;
      expect(route.params['@type']).toBe('relabel');
      expect(route.params['@label']).toBe('@TELEMETRY');
    }
    const telemetryOutputs = matchesOf(labelOf(parsed, '@TELEMETRY')!.children);
    expect(telemetryOutputs.map((m) => [m.arg, m.params['@type']])).toEqual([['**', 'stdout']]);
  });

  test('monitor_agent reports every output\'s buffer and retries as JSON lines tagged with the fleet, on loopback only', () => {
    const monitor = parsed.find((d) => d.name === 'source' && d.params['@type'] === 'monitor_agent')!;
    expect(monitor.params).toMatchObject({ bind: '127.0.0.1', port: '24220', '@label': '@TELEMETRY', emit_interval: '60s', include_config: 'false' });
    const label = labelOf(parsed, '@TELEMETRY')!;
    const fleet = label.children.find((d) => d.name === 'filter')!.children.find((c) => c.name === 'record')!;
    expect(fleet.params).toEqual({ fleet: 'TestFleet' });
    expect(matchesOf(label.children)[0].children.find((c) => c.name === 'format')!.params['@type']).toBe('json');
  });

  test('warnings about secondary_file writes and overflows become telemetry events with the plugin id', () => {
    const label = labelOf(parsed, '@FLUENT_LOG')!;
    const [grep, parser] = label.children.filter((d) => d.name === 'filter');
    const kept = new RegExp(grep.children[0].params.pattern.slice(1, -1));
    // The messages fluentd 1.17 writes (lib/fluent/plugin/output.rb), prefixed by the plugin's @id.
    const secondary = '[forward_rails] retry succeeded by secondary. chunk_id="5f0"';
    const unrecoverable = '[forward_job] got unrecoverable error in primary. Skip retry and flush chunk to secondary error_class=X';
    const overflow = '[forward_unmatched] failed to write data into buffer by buffer overflow action=:throw_exception';
    for (const message of [secondary, unrecoverable, overflow]) expect(kept.test(message)).toBe(true);
    expect(kept.test('[forward_rails] failed to flush the buffer. retry_times=1')).toBe(false);
    // Ruby's named groups read the same in JavaScript.
    expect(parser.params).toMatchObject({ '@type': 'parser', key_name: 'message', reserve_data: 'true', emit_invalid_record_to_error: 'false' });
    const expression = new RegExp(parser.children[0].params.expression.slice(1, -1));
    expect([secondary, unrecoverable, overflow].map((m) => ({ ...expression.exec(m)!.groups }))).toEqual([
      { plugin_id: 'forward_rails', event: 'secondary' },
      { plugin_id: 'forward_job', event: 'secondary' },
      { plugin_id: 'forward_unmatched', event: 'buffer overflow' },
    ]);
  });

  test('no line holds a ${} placeholder, which CloudFormation validation would take for its own', () => {
    expect(text).not.toContain('${');
    expect(renderAggregatorConfig({ logType: 'job', listenPort: 24224, buffer, telemetry, cloudWatch: { logGroupName: 'jobs', region: 'us-east-1' } })).not.toContain('${');
  });

  test('each output keeps its secondary files in its own folder, so a replay knows the log type', () => {
    const folders = matchesOf(parsed).map((m) => m.children.find((c) => c.name === 'secondary')!.params.directory);
    expect(folders).toEqual(['rails', 'nginx', 'job', 'unmatched'].map((r) => `/fluentd/buffer/failed/${r}`));
    for (const m of matchesOf(parsed)) expect(buffersOf([m])[0].arg).toBe('tag');
  });

  test('fails when the default log type has no route', () => {
    expect(() => renderForwarderConfig({ ...forwarder, defaultLogType: 'audit' })).toThrow('defaultLogType audit has no route');
  });
});

describe('aggregator configuration', () => {
  const s3: AggregatorConfig = { logType: 'rails', listenPort: 24224, buffer, telemetry, s3: { bucketName: 'logs-bucket', region: 'us-east-1', prefix: 'logs/rails/', timeSliceSeconds: 300 } };

  test('writes S3 objects under the log type\'s prefix with unique names, from a file buffer', () => {
    const [source, , match] = parseFluentdConfig(renderAggregatorConfig(s3)).filter((d) => d.name === 'source' || d.name === 'match');
    expect(source.params).toMatchObject({ '@type': 'forward', bind: '0.0.0.0', port: '24224' });
    expect(match.params).toMatchObject({ '@type': 's3', s3_bucket: 'logs-bucket', path: 'logs/rails/%Y/%m/%d/', check_bucket: 'false' });
    expect(match.params.s3_object_key_format).toContain('%{uuid_flush}');
    expect(buffersOf([match])[0].params).toMatchObject({ '@type': 'file', flush_at_shutdown: 'true', timekey: '300', flush_mode: 'lazy', chunk_limit_size: '256m' });
    expect(buffersOf([match])[0].params.flush_interval).toBeUndefined();
    expect(match.children.find((c) => c.name === 'secondary')?.params).toEqual({ '@type': 'secondary_file', directory: '/fluentd/buffer/failed/output' });
  });

  test('writes to a CloudWatch Logs group from a file buffer', () => {
    const text = renderAggregatorConfig({ logType: 'job', listenPort: 24224, buffer, telemetry, cloudWatch: { logGroupName: 'jobs', region: 'us-east-1' } });
    const match = matchesOf(parseFluentdConfig(text))[0];
    expect(match.params).toMatchObject({ '@type': 'cloudwatch_logs', log_group_name: 'jobs', auto_create_stream: 'true' });
    expect(buffersOf([match])[0].params['@type']).toBe('file');
  });

  test('a full aggregator buffer blocks its input, so forwarders keep the unacknowledged chunks', () => {
    const text = renderAggregatorConfig({ ...s3, buffer: { ...buffer, overflowAction: OverflowAction.BLOCK } });
    const parsed = parseFluentdConfig(text);
    expect(buffersOf(parsed).filter((b) => b.params['@type'] === 'file').map((b) => b.params.overflow_action)).toEqual(['block']);
    expect(text).not.toContain('drop_oldest_chunk');
  });

  test('an aggregator sends fluentd\'s own events to telemetry, not to its destination', () => {
    const parsed = parseFluentdConfig(renderAggregatorConfig(s3));
    for (const tag of FLUENT_EVENT_TAGS) expect(routeOfFluentdEvent(parsed, tag)!.params['@type']).toBe('relabel');
    expect(routeOf(parsed, 'rails.web')!.params['@type']).toBe('s3');
  });

  test('fails when an aggregator has no output or two', () => {
    expect(() => renderAggregatorConfig({ logType: 'x', listenPort: 1, buffer, telemetry })).toThrow('aggregator x needs exactly one output');
  });
});

test('the container command writes the configuration from the environment before starting fluentd', () => {
  expect(fluentdCommand('CONF', '/tmp/f.conf', ['--gemfile', '/fluentd/Gemfile']))
    .toBe('printf \'%s\' "$CONF" > /tmp/f.conf && exec fluentd -c /tmp/f.conf --gemfile /fluentd/Gemfile');
});

describe('configuration as a CloudFormation value', () => {
  test('is a join of its lines', () => {
    const value = new Stack().resolve(reviewableText('<system>\n  log_level info\n</system>\n'));
    expect(value).toEqual({ 'Fn::Join': ['\n', ['<system>', '  log_level info', '</system>', '']] });
  });

  test('fails when a line holds a ${} placeholder, which CloudFormation validation rejects', () => {
    expect(() => reviewableText('  basename ${tag}\n')).toThrow('fluentd configuration line holds a ${} placeholder');
  });
});
