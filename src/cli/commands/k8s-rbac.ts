import type { Command } from 'commander';
import { executorRbac } from '../../executors/kubernetes/rbac.js';
import { writeOut } from '../output/write.js';

/**
 * Prints the Kubernetes executor's least-privilege identity as YAML for a cluster admin to apply once
 * (`greengrader k8s-rbac --namespace NS | kubectl apply -f -`): the same objects the k8s tests run the executor as.
 */
export function registerK8sRbacCommand(program: Command): void {
  program
    .command('k8s-rbac')
    .description("print the Kubernetes executor's ServiceAccount, Role and bindings as YAML (for kubectl apply)")
    .option('--namespace <namespace>', 'namespace of the grader pods (K8S_NAMESPACE)', 'greengrader')
    .option('--service-account <name>', 'the ServiceAccount the region worker runs as', 'greengrader-executor')
    .action(async (options: { namespace: string; serviceAccount: string }) => {
      // Loaded here, not at the top: the Kubernetes client alone takes over a second to load.
      const { dumpYaml } = await import('@kubernetes/client-node');
      const rbac = executorRbac(options.namespace, options.serviceAccount);
      writeOut(
        Object.values(rbac)
          .map((object) => dumpYaml(object).trimEnd())
          .join('\n---\n'),
      );
    });
}
