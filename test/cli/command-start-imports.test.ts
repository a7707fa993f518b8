// Every `greengrader` command starts a fresh Node process, and the tests spawn it dozens of times: a command
// loads the heavy clients (Temporal's worker, Kubernetes, Docker, MQTT) only when it uses them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Module hooks that name each npm package the process resolves, one stderr line each, as it loads it. */
const hooks = `
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const match = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(resolved.url);
  if (match) process.stderr.write('loaded package ' + match[1] + '\\n');
  return resolved;
}`;
const registerHooks = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;

/** Runs `greengrader ARGS…` through tsx as the bin does; returns its exit code and the packages it loaded. */
function packagesLoadedBy(args: readonly string[]): Promise<{ code: number | null; packages: Set<string> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        `data:text/javascript,${encodeURIComponent(registerHooks)}`,
        'src/cli/main.ts',
        ...args,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`greengrader ${args.join(' ')} did not finish within 60 s; stderr: ${stderr}`));
    }, 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const packages = new Set([...stderr.matchAll(/^loaded package (\S+)$/gm)].map((match) => match[1] ?? ''));
      resolve({ code, packages });
    });
  });
}

const HEAVY = ['@temporalio/worker', '@temporalio/client', '@kubernetes/client-node', 'dockerode', 'mqtt', 'aedes'];

describe('what a greengrader command loads at start', () => {
  it('a query command loads none of the heavy clients, only what it uses', async () => {
    // A bad id: the whole command line is parsed (every command registered), then it stops before any I/O.
    const { code, packages } = await packagesLoadedBy(['status', 'abc']);
    assert.equal(code, 2);
    assert.ok(packages.has('commander'), `the hooks saw the packages loaded: ${[...packages].join(', ')}`);
    assert.deepEqual(
      HEAVY.filter((name) => packages.has(name)),
      [],
    );
  });

  it('a command loads the client it uses when it runs', async () => {
    const { code, packages } = await packagesLoadedBy(['k8s-rbac']);
    assert.equal(code, 0);
    assert.ok(packages.has('@kubernetes/client-node'));
    assert.ok(!packages.has('@temporalio/worker'));
  });
});
