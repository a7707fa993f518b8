import { KubeConfig } from '@kubernetes/client-node';

/** Where the executor's cluster credentials come from. */
export type KubeConfigSource =
  /** A kubeconfig file, e.g. one holding a ServiceAccount token; `context` defaults to its current-context. */
  | { kind: 'file'; path: string; context?: string }
  /** The pod's own ServiceAccount, when the worker itself runs in the cluster. */
  | { kind: 'in-cluster' }
  /** Kubeconfig YAML given as text (an environment variable or a mounted Secret). */
  | { kind: 'inline'; yaml: string; context?: string }
  /** A bearer token, e.g. from the TokenRequest API, and the cluster CA. */
  | { kind: 'token'; server: string; caCertPem: string; token: string };

export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const config = new KubeConfig();
  switch (source.kind) {
    case 'file':
      config.loadFromFile(source.path);
      if (source.context !== undefined) config.setCurrentContext(source.context);
      break;
    case 'in-cluster':
      config.loadFromCluster();
      break;
    case 'inline':
      config.loadFromString(source.yaml);
      if (source.context !== undefined) config.setCurrentContext(source.context);
      break;
    case 'token':
      config.loadFromOptions({
        clusters: [
          { name: 'cluster', server: source.server, caData: Buffer.from(source.caCertPem).toString('base64') },
        ],
        users: [{ name: 'user', token: source.token }],
        contexts: [{ name: 'context', cluster: 'cluster', user: 'user' }],
        currentContext: 'context',
      });
      break;
  }
  if (config.getCurrentCluster() === null) throw new Error(`kubeconfig (${source.kind}) names no current cluster`);
  return config;
}
