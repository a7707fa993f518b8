import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';

/** What a cluster admin applies once so the executor can run as a least-privilege ServiceAccount. */
export interface ExecutorRbac {
  serviceAccount: V1ServiceAccount;
  /** Pods, their logs, the input Secrets and the grader NetworkPolicy, in the grading namespace only. */
  role: V1Role;
  roleBinding: V1RoleBinding;
  /** `get` on nodes (never list or watch): reads the labels of the node a pod ran on. Optional: without it the
   * executor records the requested region/zone instead. */
  nodeReader: V1ClusterRole;
  nodeReaderBinding: V1ClusterRoleBinding;
}

/**
 * The executor's identity: create/get/list/watch/delete pods (list finds an earlier attempt's pods by label, watch
 * follows one), get pods/log (the results route), create/delete Secrets (never get or list: it cannot read other
 * Secrets, not even its own), get/create networkpolicies (the worker ensures the grader pods' deny-all policy at
 * start; never update or delete: an operator's own policy of that name stays as it is), and get nodes.
 */
export function executorRbac(namespace: string, serviceAccount = 'greengrader-executor'): ExecutorRbac {
  const subject = { kind: 'ServiceAccount', name: serviceAccount, namespace };
  const name = 'greengrader-executor';
  const nodeReaderName = `greengrader-executor-node-reader-${namespace}`;
  return {
    serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace } },
    role: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'delete'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'create'] },
      ],
    },
    roleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [subject],
    },
    nodeReader: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: nodeReaderName },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }],
    },
    nodeReaderBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: nodeReaderName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: nodeReaderName },
      subjects: [subject],
    },
  };
}
