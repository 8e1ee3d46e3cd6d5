#!/usr/bin/env node
// Gate 5: the example app passes every policy suite it applies: cdk-nag's packs and the AWS Control
// Tower proactive controls (cfn-guard rules of @cdklabs/cdk-validator-cfnguard). Zero unacknowledged
// findings; every acknowledgement is scoped to a resource (never the app or a whole stack) with a
// specific reason. The Control Tower table in docs/compliance.md is generated here: the gate fails
// when it is stale (`node scripts/check-policies.js --write-docs` rewrites it).
const { App, Stack, Stage, Validations } = require('aws-cdk-lib');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { nagPacks, controlTowerRules } = require(path.join(__dirname, '..', 'dist', 'bin', 'app.js'));
const { controlTowerReport } = require('./control-tower');
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
const templatePaths = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f));
const guard = controlTowerReport(app, controlTowerRules(), templatePaths);
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
      const isGuardRule = bareRule.startsWith(`${guard.namespace}::`);
      if (isNagRule) acknowledgements++;
      if ((isNagRule || isGuardRule) && (node instanceof App || Stage.isStage(node) || Stack.isStack(node))) {
        problems.push(`acknowledgement of ${rule} on ${where} is app- or stack-wide: acknowledge it on the resource it concerns`);
      }
      if (typeof reason !== 'string' || reason.trim().length < MIN_REASON || VAGUE.test(reason.trim())) {
        problems.push(`acknowledgement of ${rule} on ${where} needs a specific reason (at least ${MIN_REASON} characters), got ${JSON.stringify(reason)}`);
      }
    }
  }
}

for (const v of guard.unacknowledged) problems.push(`[Control Tower] ${v.control} ${v.rule} at ${v.where}: ${v.fix}`);
for (const a of guard.unused) problems.push(`[Control Tower] acknowledgement of ${a.rule} on ${a.where} matches no failure: remove it`);

const docsPath = path.join(__dirname, '..', 'docs', 'compliance.md');
const docs = fs.readFileSync(docsPath, 'utf-8');
const BEGIN = '<!-- control-tower-table:begin -->';
const END = '<!-- control-tower-table:end -->';
const current = `${BEGIN}\n${guard.markdown}${END}`;
const regenerated = docs.replace(new RegExp(`${BEGIN}[\\s\\S]*?${END}`), current);
if (process.argv.includes('--write-docs')) fs.writeFileSync(docsPath, regenerated);
else if (regenerated !== docs) problems.push('docs/compliance.md: the Control Tower table is stale; run `node scripts/check-policies.js --write-docs` and commit it');

if (problems.length > 0) {
  console.error(`policy gate: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log(`cdk-nag gate: 0 unacknowledged findings across ${packs.map((p) => p.readPackName).join(', ')}; ${acknowledgements} resource-scoped nag acknowledgements, each with a specific reason`);
console.log(`Control Tower gate: ${guard.rules} rules over ${templatePaths.length} templates: ${guard.failuresBefore} failing rule/resource pairs without acknowledgements, 0 unacknowledged; ${guard.acknowledged} resource-scoped acknowledgements, each with a specific reason`);
