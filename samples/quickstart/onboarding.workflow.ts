// A customer onboarding workflow of four steps. Each step prints which process executes it, so the
// demo shows which steps ran before the crash and which ran after the resume.
import { Step, Workflow, currentStep } from 'zart';

export interface OnboardingInput {
  email: string;
  plan: 'free' | 'team';
}

export class Accounts {
  @Step()
  async createAccount(email: string): Promise<{ accountId: string }> {
    say(`creating the account of ${email}`);
    await pause(300);
    return { accountId: `acc_${email.split('@')[0]}` };
  }

  @Step()
  async provisionWorkspace(accountId: string, plan: string): Promise<{ workspace: string }> {
    say(`provisioning a ${plan} workspace for ${accountId}`);
    await pause(300);
    if (process.env.QUICKSTART_CRASH === '1') {
      say('... and the process dies right here (SIGKILL): no checkpoint for this step');
      process.kill(process.pid, 'SIGKILL');
    }
    return { workspace: `${accountId}.example.app` };
  }
}

export class Mailer {
  @Step()
  async sendWelcome(email: string, workspace: string): Promise<void> {
    // The idempotency key is stable across replays: an email API can drop duplicates with it.
    say(`sending the welcome mail to ${email} (idempotency key ${currentStep().idempotencyKey})`);
    await pause(200);
    void workspace;
  }
}

@Workflow({ name: 'onboarding' })
export class Onboarding {
  private readonly accounts = new Accounts();
  private readonly mailer = new Mailer();

  async run(input: OnboardingInput): Promise<{ accountId: string; workspace: string }> {
    const { accountId } = await this.accounts.createAccount(input.email);
    const { workspace } = await this.accounts.provisionWorkspace(accountId, input.plan);
    await this.mailer.sendWelcome(input.email, workspace);
    return { accountId, workspace };
  }
}

function say(line: string): void {
  console.log(`  [pid ${process.pid}] ${line}`);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
