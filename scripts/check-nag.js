#!/usr/bin/env node
// Gate 5: every nag pack the example app applies reports zero unacknowledged findings, and every
// acknowledgement is scoped to a resource (never the app or a whole stack) with a specific reason.
const { App, Stack, Stage, Validations } = require('aws-cdk-lib');
const path = require('path');
const { buildApp, nagPacks } = require(path.join(__dirname, '..', 'dist', 'bin', 'app.js'));

const MIN_REASON = 40;
const VAGUE = /^(n\/?a|none|ok|fine|not needed|not required|suppress(ed)?|false positive|ignore(d)?|todo)\.?$/i;

const app = buildApp(new App({ outdir: require('os').tmpdir() + '/nag-gate-' + process.pid }));
const problems = [];

for (const pack of nagPacks(app)) {
  for (const v of pack.validateScope(app).violations) {
    for (const r of v.violatingResources) problems.push(`[${pack.name}] ${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}: ${v.description.split('\n')[0]}`);
  }
}

let acknowledgements = 0;
for (const node of app.node.findAll()) {
  for (const entry of node.node.metadata) {
    if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
    for (const [rule, reason] of Object.entries(entry.data)) {
      acknowledgements++;
      const where = node.node.path || '(app)';
      if (node instanceof App || Stage.isStage(node) || Stack.isStack(node)) {
        problems.push(`acknowledgement of ${rule} on ${where} is app- or stack-wide: acknowledge it on the resource it concerns`);
      }
      if (typeof reason !== 'string' || reason.trim().length < MIN_REASON || VAGUE.test(reason.trim())) {
        problems.push(`acknowledgement of ${rule} on ${where} needs a specific reason (at least ${MIN_REASON} characters), got ${JSON.stringify(reason)}`);
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`cdk-nag gate: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log(`cdk-nag gate: 0 unacknowledged findings across ${nagPacks(app).map((p) => p.name).join(', ')}; ${acknowledgements} resource-scoped acknowledgements, each with a reason`);
