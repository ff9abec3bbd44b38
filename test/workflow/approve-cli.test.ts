import { main } from '../../local/approve';
import { rehearse } from '../support/rehearsal';

/**
 * `npm run approve -- <link or id>`: the operator's path without email decides through the
 * page's own GET and POST (the rehearsal serves the real page on 127.0.0.1, `--approve web`).
 */
/** Runs the command, collecting what it prints. */
async function approve(argv: string[]): Promise<{ result: number; out: string }> {
  const written: string[] = [];
  const result = await main(argv, { out: (t) => void written.push(t) });
  return { result, out: written.join('') };
}

test('approve by link, approve by id with --url, reject: the rotation rolls back; a replay exits 1; bad arguments exit 2', async () => {
  // Arrange
  const links: string[] = [];
  const waiters: Array<() => void> = [];
  const run = rehearse({
    approve: { mode: 'web' },
    announce: (line) => {
      const m = /open this link to decide: (\S+)/.exec(line);
      if (m) links.push(m[1]);
      waiters.splice(0).forEach((w) => w());
    },
  });
  const nextLink = async (n: number): Promise<string> => {
    while (links.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    return links[n - 1];
  };

  // Act
  const first = await approve([await nextLink(1), '--approve', '--name', 'cli-operator']);
  const replay = await approve([await nextLink(1), '--reject', '--name', 'late']);
  const second = await nextLink(2);
  const id = second.slice(second.lastIndexOf('/') + 1);
  const base = second.slice(0, second.indexOf('/a/') + 1);
  const byId = await approve([id, '--url', base, '--approve', '--name', 'cli-operator', '--comment', 'by id']);
  const third = await approve([await nextLink(3), '--reject', '--name', 'cli-operator', '--comment', 'stop here']);
  const report = await run;
  const usage = await Promise.all([approve([id]), approve(['not-an-id']), approve([second, '--approve', '--reject'])]);

  // Assert
  expect(first.result).toBe(0);
  expect(first.out).toContain('Approval 1: start the rotation?');
  expect(first.out).toContain('Approved by cli-operator');
  expect(replay.result).toBe(1);
  expect(replay.out).toMatch(/Already approved by cli-operator at/);
  expect(byId.result).toBe(0);
  expect(third.result).toBe(0);
  expect(third.out).toContain('Rejected by cli-operator');
  expect(report.status).toBe('REJECTED');
  expect(report.approvals.map((a) => [a.decision, a.approver, a.comment])).toEqual([
    ['approved', 'cli-operator', undefined],
    ['approved', 'cli-operator', 'by id'],
    ['rejected', 'cli-operator', 'stop here'],
  ]);
  expect(report.error).toMatch(/^ApprovalRejected: rejected by cli-operator at \S+: stop here$/);
  expect(usage.map((u) => u.result)).toEqual([2, 2, 2]);
}, 600_000);
