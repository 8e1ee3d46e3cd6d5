/** Numbers the logging constructs share; the public classes expose them as static members. */

/** Port of the per-host forwarder, on the host's loopback address. */
export const FORWARDER_PORT = 24224;
/** Port the aggregators listen on. */
export const AGGREGATOR_PORT = 24224;
/** Loopback port of fluentd's monitor_agent in every fluentd container. */
export const MONITOR_PORT = 24220;
/** Below this, fluentd's Ruby runtime plus the in-memory part of the buffers gets OOM-killed. */
export const MIN_FORWARDER_MEMORY_MIB = 128;
/** Seconds between two telemetry lines of one fluentd output. */
export const TELEMETRY_INTERVAL_SECONDS = 60;
/** CloudWatch namespace of the fluentd metrics. */
export const TELEMETRY_NAMESPACE = 'CdkContainerPatterns/Fluentd';
