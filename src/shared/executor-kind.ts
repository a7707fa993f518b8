/** What runs a node's graders: its own Docker engine, or pods in a Kubernetes region. */
export const executorKinds = ['docker', 'kubernetes'] as const;
export type ExecutorKind = (typeof executorKinds)[number];
