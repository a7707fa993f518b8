import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAllYaml } from '@kubernetes/client-node';
import { executorRbac } from '../../src/executors/kubernetes/rbac.js';
import { runCli } from './support/run-cli.js';

describe('greengrader k8s-rbac', () => {
  it('prints the executor identity the k8s tests run as, as YAML kubectl can apply', async () => {
    const result = await runCli(['k8s-rbac', '--namespace', 'grading', '--service-account', 'grader-sa']);
    assert.equal(result.code, 0, result.stderr);
    const printed = loadAllYaml(result.stdout);
    assert.deepEqual(printed, Object.values(executorRbac('grading', 'grader-sa')));
    assert.deepEqual(
      printed.map((object) => (object as { kind: string }).kind),
      ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'],
    );
  });
});
