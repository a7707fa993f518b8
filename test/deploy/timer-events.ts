// When a workflow's durable timers were started and fired, from its history on the server.
import type { Client } from '@temporalio/client';

export interface TimerEvents {
  startedAt: Date[];
  firedAt: Date[];
}

export async function timerEvents(client: Client, workflowId: string): Promise<TimerEvents> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const at = (event: (typeof events)[number]) => {
    const seconds = Number(event.eventTime?.seconds ?? 0);
    return new Date(seconds * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6));
  };
  return {
    startedAt: events.filter((event) => event.timerStartedEventAttributes).map(at),
    firedAt: events.filter((event) => event.timerFiredEventAttributes).map(at),
  };
}
