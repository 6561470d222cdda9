import { clipText } from './reply-text';
import { isPlainObject } from './validate';

/** Files of a copy_user_files reply that were not copied, in words for the error. */
export interface CopyOutcome {
  failed: number;
  total: number;
  /** The first file not copied, with the broker's reason when it gave one. */
  firstFailed: string;
  summary: string;
}

/**
 * A copy that left files behind, whichever broker generation answered: the current broker says
 * status "error" with error_files {file: reason}, the documented one status "ok" with error_files
 * [file]. Both become the same error (with the partial result) so a flow handles them alike.
 * Undefined when no file failed (or the reply carries no file lists: an ordinary failure).
 */
export function copyOutcome(reply: Record<string, unknown>): CopyOutcome | undefined {
  const errors = reply.error_files;
  const failures: Array<[string, string | undefined]> = isPlainObject(errors)
    ? Object.entries(errors).map(([file, reason]) => [file, typeof reason === 'string' ? reason : undefined])
    : Array.isArray(errors)
      ? errors.map((file) => [String(file), undefined])
      : [];
  if (failures.length === 0) return undefined;
  const copied = reply.destination_files ?? reply.destination_file_path;
  const copiedCount = isPlainObject(copied) ? Object.keys(copied).length : Array.isArray(copied) ? copied.length : 0;
  const [file, reason] = failures[0]!;
  const first = clipText(reason ? `${file} (${reason})` : file, 200);
  const more = failures.length > 1 ? ` and ${failures.length - 1} more` : '';
  return {
    failed: failures.length,
    total: failures.length + copiedCount,
    firstFailed: first,
    summary: `${first}${more}; the result lists the files that were copied`,
  };
}
