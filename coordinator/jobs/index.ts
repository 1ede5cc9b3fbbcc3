export { decideAudit, maxReplicas, type AuditDecision } from './audit.js';
export { busyJobCounts, fullyBusy, jobSlots } from './busy.js';
export { JobDispatcher, type DispatcherSettings, type JobLink } from './dispatcher.js';
export { buildJobs, type SubmitInput } from './submit.js';
export { judgeUsage, type UsageContext, type UsageLimits } from './usage.js';
