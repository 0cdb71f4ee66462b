// What onboarding talks to, simulated in memory: the account store (your database), the mailer
// (your email API) and a compliance screening service that is down now and then.
import { Step, currentStep } from 'zart';

export interface Account {
  id: string;
  email: string;
  name: string;
  status: 'unverified' | 'active' | 'in-review' | 'closed';
  profileComplete: boolean;
}

export class AccountStore {
  readonly accounts = new Map<string, Account>();

  @Step()
  async create(email: string, name: string): Promise<string> {
    const id = `acct_${email.replace(/[^a-z0-9]/gi, '_')}`;
    this.accounts.set(id, { id, email, name, status: 'unverified', profileComplete: false });
    return id;
  }

  @Step()
  async setStatus(id: string, status: Account['status']): Promise<void> {
    this.account(id).status = status;
  }

  @Step()
  async isProfileComplete(id: string): Promise<boolean> {
    return this.account(id).profileComplete;
  }

  /** What the app's settings page does when the user fills in their profile. */
  completeProfile(id: string): void {
    this.account(id).profileComplete = true;
  }

  private account(id: string): Account {
    const account = this.accounts.get(id);
    if (!account) throw new Error(`no account ${id}`);
    return account;
  }
}

export class Mailer {
  readonly outbox: Array<{ to: string; template: string }> = [];

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  // At least once: an email API would drop a repeat by the idempotency key.
  @Step({ retry: { maxAttempts: 3, initialDelay: '200ms' } })
  async send(to: string, template: string, text: string): Promise<void> {
    this.outbox.push({ to, template });
    this.log(`mail to ${to} [${template}]: ${text} (idempotency key ${currentStep().idempotencyKey})`);
  }
}

/** The screening service did not answer; worth asking again later. */
export class ScreeningUnavailableError extends Error {
  override readonly name = 'ScreeningUnavailableError';
}

export class ComplianceScreening {
  // Names on the (simulated) sanctions list: such accounts go to a human for review.
  private readonly watchList = new Set(['Mallory Sanctioned']);

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  // Screening services have bad minutes: retry with growing pauses, up to ~15 s in all. The attempt
  // count is stored, so a redeploy between two attempts does not start the count again.
  @Step({ retry: { maxAttempts: 5, backoff: 'exponential', initialDelay: '1s', maxDelay: '8s' } })
  async screen(name: string): Promise<{ cleared: boolean }> {
    const { attempt } = currentStep();
    if (attempt === 1) {
      this.log(`compliance screening of ${name}: service unavailable (attempt ${attempt}), will retry`);
      throw new ScreeningUnavailableError('screening service unavailable (503)');
    }
    const cleared = !this.watchList.has(name);
    this.log(
      `compliance screening of ${name}: ${cleared ? 'cleared' : 'match on the watch list'} (attempt ${attempt})`,
    );
    return { cleared };
  }
}
