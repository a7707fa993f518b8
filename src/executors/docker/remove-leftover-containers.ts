import type Docker from 'dockerode';
import { NODE_LABEL } from './grader-container.js';

/** A node worker that crashed mid-run leaves containers behind; its next start removes them. */
export async function removeLeftoverContainers(docker: Docker, nodeName: string): Promise<string[]> {
  const leftovers = await docker.listContainers({
    all: true,
    filters: { label: [`${NODE_LABEL}=${nodeName}`] },
  });
  await Promise.all(leftovers.map((info) => docker.getContainer(info.Id).remove({ force: true })));
  return leftovers.map((info) => info.Id);
}
