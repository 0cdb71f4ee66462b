// Onboarding a new user: create the account, send the verification email, wait up to three days
// for the click, screen the user (compliance, retried), activate, then remind them to finish their
// profile a day and then two days later, unless they have. Every wait is durable: the run holds no
// worker while it waits, and a redeploy during the three days changes nothing.
import { Workflow, WaitTimeoutError, sleep, waitForEvent, type Duration } from 'zart';
import { AccountStore, ComplianceScreening, Mailer } from './onboarding-services';

/**
 * How long each wait lasts. The defaults are the real ones; the demo passes shorter ones. (Its test
 * keeps the real ones and skips time instead: see test/samples/onboarding.test.ts.)
 */
export interface OnboardingTiming {
  verificationWindow: Duration;
  firstReminderAfter: Duration;
  secondReminderAfter: Duration;
}

export const realTiming: OnboardingTiming = {
  verificationWindow: '3d',
  firstReminderAfter: '1d',
  secondReminderAfter: '2d',
};

export interface OnboardingInput {
  email: string;
  name: string;
  timing?: OnboardingTiming;
}

export type OnboardingOutcome =
  | { status: 'active'; accountId: string; remindersSent: number }
  | { status: 'closed' | 'in-review'; accountId: string };

/** The event the verification link's handler sends: `zart.sendEvent(runId, 'email-verified', ...)`. */
export interface EmailVerified {
  verifiedAt: string;
}

@Workflow({ name: 'user-onboarding' })
export class UserOnboarding {
  constructor(
    private readonly accounts: AccountStore,
    private readonly mailer: Mailer,
    private readonly compliance: ComplianceScreening,
  ) {}

  async run(input: OnboardingInput): Promise<OnboardingOutcome> {
    const timing = input.timing ?? realTiming;
    const accountId = await this.accounts.create(input.email, input.name);
    await this.mailer.send(input.email, 'verify', `confirm your address: https://example.app/verify/${accountId}`);

    try {
      // Parked: no worker is held for three days; sendEvent() wakes the run at once.
      await waitForEvent<EmailVerified>('email-verified', { timeout: timing.verificationWindow });
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      await this.accounts.setStatus(accountId, 'closed');
      await this.mailer.send(input.email, 'closed', 'your address was never confirmed, so we closed the account');
      return { status: 'closed', accountId };
    }

    const { cleared } = await this.compliance.screen(input.name);
    if (!cleared) {
      await this.accounts.setStatus(accountId, 'in-review');
      return { status: 'in-review', accountId };
    }
    await this.accounts.setStatus(accountId, 'active');
    await this.mailer.send(input.email, 'welcome', 'welcome aboard!');

    let remindersSent = 0;
    for (const pause of [timing.firstReminderAfter, timing.secondReminderAfter]) {
      await sleep(pause); // durable: the wake-up time is stored, a restart does not reset it
      if (await this.accounts.isProfileComplete(accountId)) break;
      await this.mailer.send(input.email, 'reminder', 'two minutes to finish your profile?');
      remindersSent++;
    }
    return { status: 'active', accountId, remindersSent };
  }
}
