// @Step() keeps what other method decorators recorded (Nest's @SetMetadata, guards, roles), whether
// they are written above it or below it, and so does registerStep().
import 'reflect-metadata';
import { SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Step, registerStep } from '../../../src';

const reflector = new Reflector();

/** The function installed as `Payments.prototype[method]`, where Nest reads method metadata. */
function installed(method: 'charge' | 'refund' | 'capture'): () => unknown {
  return Object.getOwnPropertyDescriptor(Payments.prototype, method)!.value as () => unknown;
}

class Payments {
  @SetMetadata('audit', 'above')
  @Step()
  charge(): string {
    return 'charged';
  }

  @Step()
  @SetMetadata('audit', 'below')
  refund(): string {
    return 'refunded';
  }

  @SetMetadata('audit', 'plain')
  capture(): string {
    return 'captured';
  }
}
registerStep(Payments, 'capture');

it('keeps metadata of a decorator written above @Step()', () => {
  expect(reflector.get('audit', installed('charge'))).toBe('above');
});

it('keeps metadata of a decorator written below @Step()', () => {
  expect(reflector.get('audit', installed('refund'))).toBe('below');
});

it('keeps metadata when the step is declared with registerStep()', () => {
  expect(reflector.get('audit', installed('capture'))).toBe('plain');
});

it('still calls the method outside a workflow', () => {
  const payments = new Payments();
  expect([payments.charge(), payments.refund(), payments.capture()]).toEqual(['charged', 'refunded', 'captured']);
});
