export * from './scaling-step';
export * from './newrelic-region';
export * from './newrelic-metric-bridge';
export * from './service-step-scaling';
export * from './instance-draining';
export * from './worker-watchdog';
export * from './queue-latency-scaling';
