// The Node.js versions package.json and the README claim are ones every installed package accepts:
// `npm install` on the oldest claimed version prints no EBADENGINE warning, and neither does it here.
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { expect, test } from 'vitest';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

const claimed = pkg.engines.node;
const oldest = semver.minVersion(claimed)!.version;

test.each([
  ['the oldest version package.json claims', oldest],
  ['the running Node.js', process.versions.node],
])('every locked package accepts %s (%s)', (_, version) => {
  const refusing = Object.entries(lock.packages).flatMap(([path, p]) => {
    const range = !p.engines || Array.isArray(p.engines) ? undefined : p.engines.node;
    return range && !semver.satisfies(version, range)
      ? [`${path.replace(/^.*node_modules\//, '')}@${p.version}: node ${range}`]
      : [];
  });
  expect(refusing).toEqual([]);
});

test('the README claims the same oldest version as package.json', () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const { major, minor } = semver.parse(oldest)!;
  expect(readme).toContain(`Node.js ${major}.${minor} or later`);
});
