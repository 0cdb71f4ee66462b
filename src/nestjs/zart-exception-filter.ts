// An opt-in exception filter that answers HTTP requests failing with a zart error with the status
// the error means (a bad input is the client's fault, a missing run is a 404) instead of a 500.
// Register it with app.useGlobalFilters(new ZartExceptionFilter(app.get(HttpAdapterHost))) or as
// an APP_FILTER provider.
import { Catch, HttpStatus, Injectable, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  InvalidRunStateError,
  RunIdConflictError,
  RunNotFoundError,
  ShutdownError,
  ValidationError,
  WaitTimeoutError,
  WorkflowNotRegisteredError,
  ZartError,
} from '../errors';

/** The JSON body the filter answers with. */
export interface ZartErrorResponse {
  statusCode: number;
  /** The error's stable `ZART_*` code. */
  code: string;
  /** The error's message; a generic one for 500s, whose details stay in the server's logs. */
  message: string;
  /** For ValidationError: each failing property of the input with its messages. */
  failures?: ValidationError['failures'];
}

/** The HTTP status of a zart error: 400, 404, 409, 503, 504, or 500 for the rest. */
export function httpStatusOf(error: ZartError): HttpStatus {
  if (error instanceof ValidationError) return HttpStatus.BAD_REQUEST;
  if (error instanceof RunNotFoundError || error instanceof WorkflowNotRegisteredError) return HttpStatus.NOT_FOUND;
  if (error instanceof RunIdConflictError || error instanceof InvalidRunStateError) return HttpStatus.CONFLICT;
  if (error instanceof ShutdownError) return HttpStatus.SERVICE_UNAVAILABLE;
  if (error instanceof WaitTimeoutError) return HttpStatus.GATEWAY_TIMEOUT;
  return HttpStatus.INTERNAL_SERVER_ERROR;
}

/** Maps zart's errors to HTTP responses (see httpStatusOf); other errors are left to Nest. */
@Catch(ZartError)
@Injectable()
export class ZartExceptionFilter implements ExceptionFilter<ZartError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: ZartError, host: ArgumentsHost): void {
    // Not an HTTP call (a microservice, a scheduled job): rethrow to the caller's own handling.
    if (host.getType() !== 'http') throw error;
    const statusCode = httpStatusOf(error);
    const body: ZartErrorResponse = {
      statusCode,
      code: error.code,
      message: statusCode === HttpStatus.INTERNAL_SERVER_ERROR ? 'Internal server error' : error.message,
      ...(error instanceof ValidationError ? { failures: error.failures } : {}),
    };
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, statusCode);
  }
}
