export type { Backend, Backends, Execution, ExecutionResult, JobContext, JobDevice } from './backend.js';
export { containerBackend, detectEngine, type ContainerEngine } from './container.js';
export { execBackend } from './exec.js';
export { benchBackend, potBackend } from './in-process.js';
export { allowedCommand, decide, DEFAULT_OUTPUT_LIMIT, type JobSpec, type WorkloadKind, type WorkloadPolicy } from './policy.js';
export { JobRunner, type JobRunnerOptions, type JobStatus, type WorkloadPorts } from './runner.js';
export { detectSandbox, type Sandbox } from './sandbox.js';
export { openJobRunner } from './open.js';
