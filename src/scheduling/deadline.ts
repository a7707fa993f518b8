// When a re-grade must have started. Pure; times are epoch milliseconds.
//
// The rule, in order:
// 1. An expedited submission (a person is waiting for it) has no slack: deadline = received.
// 2. Otherwise deadline = received + maxDelay. maxDelay = 0 means run now.
// 3. Due dates cap it. Grades are looked at when an assignment closes, and a re-grade that disagrees with
//    Gradescope must be reported before then. So a submission received on or before the due date must start by
//    due + dueGrace. One received after the due date but on or before the late due date must start by
//    lateDue + dueGrace. After the last date only maxDelay applies: nobody waits for a closing moment any more.
// 4. The deadline is never before `received`, so a cap can shrink the slack to zero but never below it.
//
// The deadline is the latest START: runs take minutes, and the grace absorbs the run itself.

export interface DeadlineSettings {
  /** Longest postponement after arrival; 0 = run now. */
  maxDelayMs: number;
  /** How long after a due date re-grades of submissions made before it may still start. */
  dueGraceMs: number;
}

/** 6 h lets a run wait for a sunny afternoon or a windy night; 1 h of grace covers a day-end backlog. */
export const DEFAULT_DEADLINE_SETTINGS: DeadlineSettings = { maxDelayMs: 6 * 3_600_000, dueGraceMs: 3_600_000 };

export interface DeadlineInput {
  receivedMs: number;
  dueMs?: number | null;
  lateDueMs?: number | null;
  expedite?: boolean;
}

type DeadlineRule = 'expedited' | 'max-delay' | 'due-date' | 'late-due-date';

export interface Deadline {
  /** Latest allowed start. */
  deadlineMs: number;
  slackMs: number;
  rule: DeadlineRule;
}

export function computeDeadline(
  input: DeadlineInput,
  settings: DeadlineSettings = DEFAULT_DEADLINE_SETTINGS,
): Deadline {
  const { receivedMs } = input;
  if (!Number.isFinite(receivedMs)) throw new RangeError('receivedMs must be a finite epoch time');
  if (!(settings.maxDelayMs >= 0) || !(settings.dueGraceMs >= 0)) {
    throw new RangeError('maxDelayMs and dueGraceMs must be non-negative');
  }
  if (input.expedite === true) return { deadlineMs: receivedMs, slackMs: 0, rule: 'expedited' };
  const byDelay = receivedMs + settings.maxDelayMs;
  const closing = closingCap(input, settings.dueGraceMs);
  if (closing !== null && closing.capMs < byDelay) {
    const deadlineMs = Math.max(receivedMs, closing.capMs);
    return { deadlineMs, slackMs: deadlineMs - receivedMs, rule: closing.rule };
  }
  return { deadlineMs: byDelay, slackMs: settings.maxDelayMs, rule: 'max-delay' };
}

function closingCap(input: DeadlineInput, graceMs: number): { capMs: number; rule: DeadlineRule } | null {
  const { receivedMs, dueMs, lateDueMs } = input;
  if (dueMs != null && receivedMs <= dueMs) return { capMs: dueMs + graceMs, rule: 'due-date' };
  if (lateDueMs != null && receivedMs <= lateDueMs) return { capMs: lateDueMs + graceMs, rule: 'late-due-date' };
  return null;
}
