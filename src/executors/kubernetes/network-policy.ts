import { NetworkingV1Api, type KubeConfig, type V1NetworkPolicy } from '@kubernetes/client-node';
import { isConflict, isForbidden, isNotFound } from './errors.js';
import { LABELS, MANAGED_BY } from './run-names.js';

/** The name the worker looks for; an operator may replace the object under it with a stricter one. */
export const GRADER_NETWORK_POLICY = 'greengrader-grader-deny-all';

/** The executor's pod selector: every grader pod of every run, and nothing else in the namespace. */
const graderSelector = { [LABELS.managedBy]: MANAGED_BY, [LABELS.component]: 'grader' };

/** Thrown when the worker's identity can neither read nor create the grader NetworkPolicy: it must not start. */
export class NetworkPolicyPermissionError extends Error {
  override name = 'NetworkPolicyPermissionError';
  constructor(
    readonly namespace: string,
    readonly verb: 'get' | 'create',
  ) {
    super(
      `the Kubernetes worker cannot ${verb} NetworkPolicy ${GRADER_NETWORK_POLICY} in namespace ${namespace}: ` +
        `its identity lacks "${verb}" on networkpolicies (networking.k8s.io); apply ` +
        `\`greengrader k8s-rbac --namespace ${namespace}\` or create the policy yourself (see README, ` +
        '"Kubernetes grader pods"). Grader pods without it could reach the network, so the worker does not start.',
    );
  }
}

/** No ingress and no egress for grader pods: student code reaches nothing, not even cluster DNS. */
function graderNetworkPolicy(namespace: string): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: GRADER_NETWORK_POLICY, namespace, labels: { [LABELS.managedBy]: MANAGED_BY } },
    // Listing both types with no rules denies all of each (an empty `egress` alone would too, but be less plain).
    spec: { podSelector: { matchLabels: graderSelector }, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] },
  };
}

/**
 * Makes sure the grader pods of `namespace` run behind the deny-all policy: an existing object of that name is left
 * as it is (an operator's own, possibly stricter, policy), a missing one is created. Throws
 * NetworkPolicyPermissionError when the identity may do neither. Returns whether it created the policy.
 */
export async function ensureGraderNetworkPolicy(
  kubeConfig: KubeConfig,
  namespace: string,
): Promise<'created' | 'found'> {
  const api = kubeConfig.makeApiClient(NetworkingV1Api);
  try {
    await api.readNamespacedNetworkPolicy({ namespace, name: GRADER_NETWORK_POLICY });
    return 'found';
  } catch (error) {
    if (isForbidden(error)) throw new NetworkPolicyPermissionError(namespace, 'get');
    if (!isNotFound(error)) throw error;
  }
  try {
    await api.createNamespacedNetworkPolicy({ namespace, body: graderNetworkPolicy(namespace) });
    return 'created';
  } catch (error) {
    if (isConflict(error)) return 'found'; // another worker of the namespace created it first
    if (isForbidden(error)) throw new NetworkPolicyPermissionError(namespace, 'create');
    throw error;
  }
}
