import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { postDecision } from '../../local/approval-client';
import type { RehearsalReport } from '../../local/rehearsal';
import type { SimulatedAccount } from '../../local/sim';
import { rehearse } from '../support/rehearsal';

/**
 * End to end, in headless Chromium (Debian's, driven by playwright-core; `npm run setup`
 * installs it): a rehearsal with `--approve web` serves the real approval page on 127.0.0.1;
 * the browser opens each link, GET changes nothing, a click on Approve lets the execution go
 * on, and replaying a decided link is refused. JavaScript is off in the browser: the page needs
 * none. APPROVAL_SCREENSHOT=docs/approval-page.png keeps the phone-width screenshot.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Links as the rehearsal prints them (`open this link to decide: URL`), handed out in order. */
class Links {
  private readonly seen: string[] = [];
  private waiting: Array<(link: string) => void> = [];
  announce = (line: string): void => {
    const m = /open this link to decide: (\S+)/.exec(line);
    if (!m) return;
    const w = this.waiting.shift();
    if (w) w(m[1]);
    else this.seen.push(m[1]);
  };
  next(): Promise<string> {
    const s = this.seen.shift();
    return s ? Promise.resolve(s) : new Promise((resolve) => this.waiting.push(resolve));
  }
}

let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  // A fresh profile (--user-data-dir) per run; JavaScript disabled: deciding must not need it.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    javaScriptEnabled: false,
    viewport: { width: 360, height: 800 },
  });
});

afterAll(async () => {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
});

/** The default config's gates: Approval 1-3 (start, canary, edge), then one between each two of its three node phases. */
const GATES = 5;

test('every gate through the real page in Chromium: GET changes nothing, Approve continues the execution, a replay is refused', async () => {
  // Arrange
  const links = new Links();
  let sim: SimulatedAccount | undefined;
  const run: Promise<RehearsalReport> = rehearse({
    approve: { mode: 'web' },
    announce: links.announce,
    beforeStart: (s) => {
      sim = s;
    },
  });
  const page = await context.newPage();
  let finished = false;
  let current: string | undefined;
  try {
    const store = () => JSON.stringify(sim!.dynamodb.dump());
    const decided: string[] = [];

    for (let gate = 1; gate <= GATES; gate += 1) {
      const link = await links.next();
      current = link;

      // GET (and reload, as a scanner would fetch it again) changes nothing.
      const before = { store: store(), pending: sim!.sfn.pendingTaskTokens().length };
      const response = await page.goto(link);
      await page.reload();
      await fetch(link, { method: 'HEAD' });
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toMatch(/^default-src 'none'/);
      expect(response?.headers()['referrer-policy']).toBe('no-referrer');
      expect({ store: store(), pending: sim!.sfn.pendingTaskTokens().length }).toEqual(before);
      await expect(page.locator('h1').textContent()).resolves.toMatch(new RegExp(`^Approval ${gate}: `));
      if (gate === 2 && process.env.APPROVAL_SCREENSHOT) await page.screenshot({ path: process.env.APPROVAL_SCREENSHOT, fullPage: true });
      if (gate === 2) {
        const shot = join(profile, 'gate2.png');
        await page.screenshot({ path: shot, fullPage: true });
        expect(statSync(shot).size).toBeGreaterThan(10_000);
        // Reads at 360 px: the full-page screenshot is no wider than the viewport (no horizontal scrolling).
        expect(readFileSync(shot).readUInt32BE(16)).toBe(360);
      }

      // A click on Approve (the name is required; the comment optional).
      await page.fill('#name', 'Chromium Tester');
      await page.fill('#comment', `gate ${gate} checked in the browser`);
      await Promise.all([page.waitForLoadState('load'), page.click('button[value="approve"]')]);
      await expect(page.locator('h1').textContent()).resolves.toBe('Approved');
      decided.push(link);

      // A second POST of the same link is refused and changes nothing.
      // (The execution may already have reached the next gate, which adds its own item: compare the items there were.)
      const decidedItems = () => {
        const items = sim!.dynamodb.dump();
        return JSON.stringify(items.filter((i) => afterApprove.some((a) => a.key === i.key)));
      };
      const afterApprove = sim!.dynamodb.dump();
      const replay = await postDecision(link, { decision: 'reject', name: 'Replay' });
      expect(replay.status).toBe(409);
      expect(replay.text).toMatch(/Already approved by Chromium Tester at \S+\./);
      expect(decidedItems()).toBe(JSON.stringify(afterApprove));
      await page.goto(link);
      await expect(page.locator('form').count()).resolves.toBe(0);
    }

    // The execution went on after each click, to the end.
    const report = await run;
    expect(report.status).toBe('SUCCEEDED');
    expect(report.approvals.map((a) => [a.decision, a.approver])).toEqual(
      Array.from({ length: GATES }, () => ['approved', 'Chromium Tester']),
    );
    expect(report.approvals[1].comment).toBe('gate 2 checked in the browser');
    expect(report.secretScan.findings).toBe(0);
    expect(decided).toHaveLength(GATES);
    finished = true;
  } finally {
    // A failed check must not leave the rehearsal waiting for a browser: reject what still waits.
    if (!finished) await drain(links, run, current);
  }
}, 600_000);

/** Rejects every gate still waiting (at most a minute), so that the rehearsal ends. */
async function drain(links: Links, run: Promise<unknown>, current: string | undefined): Promise<void> {
  if (current) await postDecision(current, { decision: 'reject', name: 'test cleanup' }).catch(() => undefined);
  const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000).unref());
  for (;;) {
    const next = await Promise.race([
      links.next(),
      run.then(
        () => 'done' as const,
        () => 'done' as const,
      ),
      deadline,
    ]);
    if (next === 'done' || next === 'timeout') return;
    await postDecision(next, { decision: 'reject', name: 'test cleanup' }).catch(() => undefined);
  }
}
