import { CoreV1Api, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../../src/executors/kubernetes/kube-config.js';
import type { TestCluster } from './test-cluster.js';

/**
 * A ServiceAccount in the grading namespace with exactly `rules`, as an inline kubeconfig: for cases where the
 * executor's identity lacks one permission.
 */
export async function createIdentity(cluster: TestCluster, name: string, rules: V1PolicyRule[]): Promise<string> {
  const { namespace, admin } = cluster;
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error('TokenRequest returned no token');
  const { apiUrl, caCertPem } = cluster.controlPlane;
  return loadKubeConfig({ kind: 'token', server: apiUrl, caCertPem, token }).exportConfig();
}
