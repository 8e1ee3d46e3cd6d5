#!/usr/bin/env node
// Gate 5: every nag pack the example app applies reports zero unacknowledged findings, and every
// acknowledgement is scoped to a resource (never the app or a whole stack) with a specific reason.
const { App, Stack, Stage, Validations } = require('aws-cdk-lib');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { nagPacks } = require(path.join(__dirname, '..', 'dist', 'bin', 'app.js'));
const { addExampleStacks } = require(path.join(__dirname, '..', 'dist', 'examples', 'index.js'));

const MIN_REASON = 40;
const VAGUE = /^(n\/?a|none|ok|fine|not needed|not required|suppress(ed)?|false positive|ignore(d)?|todo)\.?$/i;

// Synthesize first (aspects and token resolution run then), exactly as `cdk synth` does before
// its validation plugins; the packs are run here directly so every finding is listed.
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-gate-'));
// The same feature flags the CLI passes from cdk.json.
const { context } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf-8'));
const app = new App({ outdir, context });
addExampleStacks(app);
app.synth();
fs.rmSync(outdir, { recursive: true, force: true });
const packs = nagPacks(app);
const packRulePrefixes = packs.map((p) => `${p.readPackName}-`);
const problems = [];

for (const pack of packs) {
  for (const v of pack.validateScope(app).violations) {
    for (const r of v.violatingResources) problems.push(`[${pack.name}] ${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}: ${v.description.split('\n')[0]}`);
  }
}

let acknowledgements = 0;
for (const node of app.node.findAll()) {
  for (const entry of node.node.metadata) {
    if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
    for (const [rule, reason] of Object.entries(entry.data)) {
      const where = node.node.path || '(app)';
      // Only nag rules are held to this: aws-cdk-lib itself acknowledges its own CloudFormation
      // validator's W3010 on every stack that reads stack.availabilityZones.
      const bareRule = rule.replace(/^Annotation::/, '');
      const isNagRule = packRulePrefixes.some((prefix) => bareRule.startsWith(prefix));
      if (isNagRule) acknowledgements++;
      if (isNagRule && (node instanceof App || Stage.isStage(node) || Stack.isStack(node))) {
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
console.log(`cdk-nag gate: 0 unacknowledged findings across ${packs.map((p) => p.readPackName).join(', ')}; ${acknowledgements} resource-scoped nag acknowledgements, each with a specific reason`);
