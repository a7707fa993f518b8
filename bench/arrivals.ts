// Submission arrivals for 2023: weekly autograded assignments whose submissions bunch up before each deadline.
//
// Model (all draws from one seeded generator):
// * Four UCSD-like terms: Winter (Jan 9), Spring (Apr 3), Summer I (Jul 3) and Fall (Sep 28). Each regular term
//   runs two courses: A (200 students, due Fridays 23:59 Pacific) and B (120 students, due Tuesdays 23:59),
//   9 weekly assignments each, released 7 days before the due date. Summer runs one course of 60 students,
//   4 assignments.
// * A student takes part in an assignment with probability 0.92 and submits 1 + Geometric(0.35) times
//   (mean 2.9): the autograder invites resubmission.
// * First submission: 70 % start Exponential(mean 10 h) before the due date, 30 % anywhere in the week. Students
//   are less active at night: a draw at Pacific hour h is kept with probability 0.25 (3–8 h), 0.6 (8–11 h),
//   0.85 (0–3 h) or 1, else redrawn.
// * Resubmissions follow after Exponential(mean 25 min). Past the due date 15 % go on as late submissions
//   (allowed for 24 h); the rest stop.
// * Run time: each assignment has a median drawn log-uniformly from 30 s to 6 min, each run is log-normal around
//   it (σ = 0.35). CPU time is 60–100 % of the run time on one core; the container holds 0.75 GB.
import type { Rng } from './rng.js';

export interface Submission {
  id: number;
  assignmentId: number;
  receivedMs: number;
  dueMs: number;
  lateDueMs: number;
  durationMs: number;
  cpuTimeSec: number;
  memoryGb: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
// 2023 US daylight saving time: 12 March 10:00 UTC to 5 November 09:00 UTC.
const DST_START_MS = Date.UTC(2023, 2, 12, 10);
const DST_END_MS = Date.UTC(2023, 10, 5, 9);

function pacificOffsetMs(utcMs: number): number {
  return utcMs >= DST_START_MS && utcMs < DST_END_MS ? -7 * HOUR_MS : -8 * HOUR_MS;
}

/** 23:59 Pacific on the given calendar day, as epoch ms. */
function pacificDayEnd(year: number, month: number, day: number): number {
  const localMidnightAsUtc = Date.UTC(year, month, day + 1);
  return localMidnightAsUtc - 60_000 - pacificOffsetMs(localMidnightAsUtc);
}

function activity(utcMs: number): number {
  const hour = new Date(utcMs + pacificOffsetMs(utcMs)).getUTCHours();
  if (hour < 3) return 0.85;
  if (hour < 8) return 0.25;
  return hour < 11 ? 0.6 : 1;
}

interface Course {
  students: number;
  firstDue: [number, number, number];
  assignments: number;
}

const TERMS: Course[][] = [
  [
    { students: 200, firstDue: [2023, 0, 20], assignments: 9 },
    { students: 120, firstDue: [2023, 0, 17], assignments: 9 },
  ],
  [
    { students: 200, firstDue: [2023, 3, 14], assignments: 9 },
    { students: 120, firstDue: [2023, 3, 11], assignments: 9 },
  ],
  [{ students: 60, firstDue: [2023, 6, 14], assignments: 4 }],
  [
    { students: 200, firstDue: [2023, 9, 13], assignments: 9 },
    { students: 120, firstDue: [2023, 9, 10], assignments: 9 },
  ],
];

function drawActive(rng: Rng, draw: () => number): number {
  let at = draw();
  for (let tries = 0; tries < 20 && !rng.chance(activity(at)); tries += 1) at = draw();
  return at;
}

export function generateSubmissions(rng: Rng): Submission[] {
  const out: Omit<Submission, 'id'>[] = [];
  let assignmentId = 0;
  for (const course of TERMS.flat()) {
    for (let week = 0; week < course.assignments; week += 1) {
      assignmentId += 1;
      const [year, month, day] = course.firstDue;
      const dueMs = pacificDayEnd(year, month, day + 7 * week);
      const lateDueMs = dueMs + DAY_MS;
      const releaseMs = dueMs - 7 * DAY_MS;
      const medianMs = 30_000 * Math.exp(rng.next() * Math.log(12));
      for (let student = 0; student < course.students; student += 1) {
        if (!rng.chance(0.92)) continue;
        const count = 1 + rng.geometric(0.35);
        let at = drawActive(rng, () =>
          rng.chance(0.7) ? Math.max(releaseMs, dueMs - rng.exponential(10 * HOUR_MS)) : rng.uniform(releaseMs, dueMs),
        );
        const late = rng.chance(0.15);
        for (let k = 0; k < count; k += 1) {
          if (k > 0) at += rng.exponential(25 * 60_000);
          if (at > (late ? lateDueMs : dueMs)) break;
          const durationMs = Math.round(Math.min(20 * 60_000, rng.logNormal(medianMs, 0.35)));
          const cpuTimeSec = (durationMs / 1000) * rng.uniform(0.6, 1);
          out.push({
            assignmentId,
            receivedMs: Math.round(at),
            dueMs,
            lateDueMs,
            durationMs,
            cpuTimeSec,
            memoryGb: 0.75,
          });
        }
      }
    }
  }
  return out.sort((a, b) => a.receivedMs - b.receivedMs).map((submission, id) => ({ id, ...submission }));
}
