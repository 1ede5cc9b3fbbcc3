export { Journal, openJournal, type OpenJournalOptions, type PruneResult } from './journal.js';
export { JournalReader, type JournalCondition, type JournalHead, type JournalStats } from './reader.js';
export { exportLine, type JournalRecord, type RecordRow, type Rejection } from './records.js';
export { migrate, SCHEMA_VERSION } from './schema.js';
export { verifyJournal, type JournalProblem, type JournalSummary, type JournalVerification } from './verify.js';
export { exportLines, verifyExportFile, MAX_EXPORT_LINE, type ExportProblem, type ExportVerification } from './export.js';
