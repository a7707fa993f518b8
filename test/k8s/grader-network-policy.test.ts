import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NetworkingV1Api } from '@kubernetes/client-node';
import Docker from 'dockerode';
import { loadConfig } from '../../src/config/config.js';
import { GRADER_NETWORK_POLICY, NetworkPolicyPermissionError } from '../../src/executors/kubernetes/network-policy.js';
import { executorRbac } from '../../src/executors/kubernetes/rbac.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createNodeWorker, type NodeWorkerDeps } from '../../src/workers/node-worker.js';
import { createIdentity } from './support/identity.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

/**
 * The region worker's start-up check, through createNodeWorker itself: it ensures the grader NetworkPolicy before it
 * connects to anything else, so these cases need no Temporal or database (they are never reached).
 */
function startWorker(cluster: TestCluster, kubeconfig: string): Promise<unknown> {
  const config = loadConfig({ K8S_REGION: 'us-west', K8S_NAMESPACE: cluster.namespace, KUBECONFIG_INLINE: kubeconfig });
  // Never used: the worker must fail (or pass) its NetworkPolicy check before it touches Temporal or the database.
  const unreachable = new Proxy({}, { get: () => assert.fail('the worker connected before its policy check') });
  const deps = { connection: unreachable, db: unreachable, config, logger: silentLogger, kind: 'kubernetes' };
  return createNodeWorker(deps as unknown as NodeWorkerDeps);
}

describe('the Kubernetes region worker and the grader NetworkPolicy', () => {
  let cluster: TestCluster;
  let networking: NetworkingV1Api;

  before(
    async () => {
      cluster = await startTestCluster(new Docker(), []);
      networking = cluster.admin.makeApiClient(NetworkingV1Api);
    },
    { timeout: 15 * 60_000 }, // a cold build of the Kubernetes binaries takes about 10 minutes
  );
  after(async () => {
    await cluster?.stop();
  });

  it('refuses to start, naming the permission and k8s-rbac, without the RBAC rule for it', async () => {
    const withoutRule = executorRbac(cluster.namespace).role.rules?.filter(
      (rule) => !rule.resources?.includes('networkpolicies'),
    );
    const kubeconfig = await createIdentity(cluster, 'no-netpol', withoutRule ?? []);
    await assert.rejects(startWorker(cluster, kubeconfig), (error: unknown) => {
      assert.ok(error instanceof NetworkPolicyPermissionError);
      assert.match(error.message, /lacks "get" on networkpolicies/);
      assert.match(error.message, /greengrader k8s-rbac --namespace grading/);
      return true;
    });
    await assert.rejects(
      networking.readNamespacedNetworkPolicy({ namespace: cluster.namespace, name: GRADER_NETWORK_POLICY }),
      { code: 404 },
    );
  });

  it('creates the deny-all policy for its grader pods, and leaves an existing one as it is', async () => {
    // The worker fails after the check, at the unreachable Temporal connection: the policy is what it left.
    await assert.rejects(startWorker(cluster, cluster.executorConfig.exportConfig()), /connected before/);
    const policy = await networking.readNamespacedNetworkPolicy({
      namespace: cluster.namespace,
      name: GRADER_NETWORK_POLICY,
    });
    assert.deepEqual(policy.spec?.podSelector.matchLabels, {
      'app.kubernetes.io/managed-by': 'greengrader',
      'app.kubernetes.io/component': 'grader',
    });
    assert.deepEqual(policy.spec?.policyTypes, ['Ingress', 'Egress']);
    assert.equal(policy.spec?.egress, undefined, 'no egress rule: all egress denied');

    // An operator's own policy of that name (here: selecting every pod) is kept, not overwritten.
    await networking.replaceNamespacedNetworkPolicy({
      namespace: cluster.namespace,
      name: GRADER_NETWORK_POLICY,
      body: { ...policy, spec: { podSelector: {}, policyTypes: ['Egress'] } },
    });
    await assert.rejects(startWorker(cluster, cluster.executorConfig.exportConfig()), /connected before/);
    const kept = await networking.readNamespacedNetworkPolicy({
      namespace: cluster.namespace,
      name: GRADER_NETWORK_POLICY,
    });
    assert.equal(kept.spec?.podSelector.matchLabels, undefined, "the operator's every-pod selector is kept");
  });
});
