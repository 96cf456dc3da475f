/**
 * One error type for the whole project, carrying a TensorFlow status code.
 * Everything that can fail throws StatusError; server/ maps the code to an
 * HTTP status in exactly one place (server/http_status.ts).
 */
export type StatusCode =
  | 'OK'
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'UNAUTHENTICATED';

export class StatusError extends Error {
  constructor(
    readonly code: StatusCode,
    message: string,
  ) {
    super(message);
    this.name = 'StatusError';
  }
}

export const invalidArgument = (msg: string) => new StatusError('INVALID_ARGUMENT', msg);
export const notFound = (msg: string) => new StatusError('NOT_FOUND', msg);
export const failedPrecondition = (msg: string) => new StatusError('FAILED_PRECONDITION', msg);
export const unimplemented = (msg: string) => new StatusError('UNIMPLEMENTED', msg);
export const internal = (msg: string) => new StatusError('INTERNAL', msg);
export const unavailable = (msg: string) => new StatusError('UNAVAILABLE', msg);
export const resourceExhausted = (msg: string) => new StatusError('RESOURCE_EXHAUSTED', msg);
export const dataLoss = (msg: string) => new StatusError('DATA_LOSS', msg);
export const outOfRange = (msg: string) => new StatusError('OUT_OF_RANGE', msg);

/** Wraps any thrown value as a StatusError (non-StatusErrors become INTERNAL). */
export function toStatusError(e: unknown): StatusError {
  if (e instanceof StatusError) return e;
  if (e instanceof Error) return new StatusError('INTERNAL', e.message);
  return new StatusError('INTERNAL', String(e));
}
