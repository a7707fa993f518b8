import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { CleanupStack } from '../../../src/app/cleanup-stack.js';

const standInPath = fileURLToPath(new URL('./grade-submission-stand-in.ts', import.meta.url));

export interface StandInWorker {
  connection: NativeConnection;
  worker: Worker;
}

/**
 * A worker of the stand-in GradeSubmission on `taskQueue`, on a NativeConnection of its own, running until
 * `cleanup` stops it. Eight slots and two polls leave six free for eager starts, as the orchestrator's quarter rule does.
 */
export async function startStandInWorker(
  address: string,
  taskQueue: string,
  cleanup: CleanupStack,
): Promise<StandInWorker> {
  const connection = await NativeConnection.connect({ address });
  cleanup.push('stand-in connection', () => connection.close());
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: standInPath,
    maxConcurrentWorkflowTaskExecutions: 8,
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 2 },
  });
  const running = worker.run();
  cleanup.push('stand-in worker', async () => {
    worker.shutdown();
    await running;
  });
  return { connection, worker };
}
