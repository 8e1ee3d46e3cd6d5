// Tests synthesize constructs that load pre-built handler and web bundles: build them once first.
const { execFileSync } = require('child_process');
const path = require('path');

module.exports = async () => {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build-assets.js'), '--quiet'], { stdio: 'inherit' });
};
