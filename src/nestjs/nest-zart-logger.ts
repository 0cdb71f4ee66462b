// Writes zart's log lines through Nest's Logger (context "Zart"), so they share the app's format,
// levels and transports; the default logger of ZartModule.
import { Logger, type LoggerService } from '@nestjs/common';
import type { ZartLogger } from '../logging/zart-logger';

/** A ZartLogger that writes to a Nest `LoggerService` (default: `new Logger('Zart')`). */
export class NestZartLogger implements ZartLogger {
  constructor(private readonly logger: LoggerService = new Logger('Zart')) {}

  debug(message: string, fields?: Record<string, unknown>): void {
    this.logger.debug?.(withFields(message, fields));
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.logger.log(withFields(message, fields));
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.logger.warn(withFields(message, fields));
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.logger.error(withFields(message, fields));
  }
}

// Fields are ids, names and numbers: one line of JSON after the message keeps them greppable.
function withFields(message: string, fields: Record<string, unknown> | undefined): string {
  if (!fields || Object.keys(fields).length === 0) return message;
  try {
    return `${message} ${JSON.stringify(fields)}`;
  } catch {
    return message;
  }
}
