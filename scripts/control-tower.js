// The Control Tower proactive controls over synthesized templates, matched against the
// acknowledgements in the construct tree the same way aws-cdk-lib's policy validation matches
// them (rule id `cdk-validator-cfnguard::<rule>`, closest acknowledging ancestor of the resource).
// Used by the policy gate (scripts/check-policies.js) and the consumer gate.
const path = require('path');
const { CfnResource, Stack, Validations } = require('aws-cdk-lib');

const NAMESPACE = 'cdk-validator-cfnguard';

/** `[CT.S3.PR.1]: Require ...` → { control: 'CT.S3.PR.1', title: 'Require ...' }. */
function parseDescription(description) {
  const m = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]:\s*([^\n]*)/.exec(description ?? '');
  const fix = /\[FIX\]:\s*([^\n]*)/.exec(description ?? '');
  return { control: m ? m[1] : '?', title: m ? m[2].trim() : (description ?? '').split('\n')[0], fix: fix ? fix[1].trim() : '' };
}

function resourcePaths(app) {
  const byTemplate = new Map();
  for (const node of app.node.findAll()) {
    if (!CfnResource.isCfnResource(node)) continue;
    const stack = Stack.of(node);
    const logicalId = stack.resolve(node.logicalId);
    const key = `${stack.templateFile}\t${logicalId}`;
    byTemplate.set(key, node.node.path);
  }
  return byTemplate;
}

function acknowledgements(app) {
  const acks = new Map();
  for (const node of app.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data)) {
        if (!id.startsWith(`${NAMESPACE}::`)) continue;
        acks.set(`${id.slice(NAMESPACE.length + 2)}\t${node.node.path}`, { reason, used: 0 });
      }
    }
  }
  return acks;
}

function closestAck(acks, rule, constructPath) {
  for (let p = constructPath; p; p = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') {
    const ack = acks.get(`${rule}\t${p}`);
    if (ack) return { ack, at: p };
  }
  return undefined;
}

/** `[option subnets] Lambda ...` → { kind: 'option subnets', text: 'Lambda ...' }. */
function splitReason(reason) {
  const m = /^\[([^\]]+)\]\s*(.*)$/s.exec(reason);
  return m ? { kind: m[1], text: m[2] } : { kind: 'exempt', text: reason };
}

function controlTowerReport(app, validator, templatePaths) {
  const report = validator.validate({ templatePaths });
  const paths = resourcePaths(app);
  const acks = acknowledgements(app);
  const unacknowledged = [];
  const rows = new Map();
  let failuresBefore = 0;
  for (const violation of report.violations) {
    const { control, title, fix } = parseDescription(violation.description);
    for (const resource of violation.violatingResources) {
      failuresBefore++;
      const template = path.basename(resource.templatePath);
      const where = paths.get(`${template}\t${resource.resourceLogicalId}`) ?? `${template}#${resource.resourceLogicalId}`;
      const found = closestAck(acks, violation.ruleName, where);
      if (!found) {
        unacknowledged.push({ control, rule: violation.ruleName, where, fix });
        continue;
      }
      found.ack.used++;
      const { kind, text } = splitReason(found.ack.reason);
      const key = `${control}\t${violation.ruleName}\t${found.ack.reason}`;
      const row = rows.get(key) ?? { control, rule: violation.ruleName, title, kind, text, resources: new Set() };
      row.resources.add(`${template.replace('.template.json', '')}/${resource.resourceLogicalId}`);
      rows.set(key, row);
    }
  }
  const unused = [...acks].filter(([, a]) => a.used === 0).map(([k]) => {
    const [rule, where] = k.split('\t');
    return { rule, where };
  });
  const sorted = [...rows.values()].sort((a, b) => a.control.localeCompare(b.control, 'en', { numeric: true }) || a.text.localeCompare(b.text));
  const escape = (s) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const markdown = [
    '| control | rule | resolution | reason | resources |',
    '|---|---|---|---|---|',
    ...sorted.map((r) => `| ${r.control} | \`${r.rule}\` | ${r.kind} | ${escape(r.text)} | ${r.resources.size}: ${[...r.resources].sort().map((x) => `\`${x}\``).join(', ')} |`),
    '',
  ].join('\n');
  return {
    namespace: NAMESPACE,
    rules: (validator.ruleIds ?? []).length,
    failuresBefore,
    acknowledged: failuresBefore - unacknowledged.length,
    unacknowledged,
    unused,
    markdown,
  };
}

module.exports = { controlTowerReport, NAMESPACE };
