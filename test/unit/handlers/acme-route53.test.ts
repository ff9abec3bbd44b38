import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type HostedZone,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { challengeRecordName, deleteTxt, findHostedZone, upsertTxt, waitInsync } from '../../../lambdas/shared/acme/route53';
import { DnsChangeTimeout, HostedZoneNotFound } from '../../../lambdas/shared/errors';
import { silentLogger } from '../../../lambdas/shared/logger';
import { challengeRecordNames } from '../../../lib/phases/obtain';

const route53Mock = mockClient(Route53Client);
const route53 = new Route53Client({ region: 'us-east-1' });

function zone(id: string, name: string, privateZone = false): HostedZone {
  return { Id: `/hostedzone/${id}`, Name: `${name}.`, CallerReference: id, Config: { PrivateZone: privateZone } };
}

beforeEach(() => {
  route53Mock.reset();
});

describe('challengeRecordName / challengeRecordNames', () => {
  test('a wildcard and its apex share one record name; case and trailing dots are normalized', () => {
    expect(challengeRecordName('*.Gitter.IM.')).toBe('_acme-challenge.gitter.im');
    expect(challengeRecordNames(['*.gitter.im', 'gitter.im', 'irc.gitter.im'])).toEqual([
      '_acme-challenge.gitter.im',
      '_acme-challenge.irc.gitter.im',
    ]);
  });
});

describe('findHostedZone', () => {
  test('the longest public suffix wins, over every page (the owning zone is on the second page, a private twin is ignored)', async () => {
    // Arrange
    route53Mock
      .on(ListHostedZonesCommand, { Marker: undefined })
      .resolves({
        HostedZones: [zone('ZIM', 'im'), zone('ZPRIVATE', 'gitter.im', true), zone('ZOTHER', 'other.gitter.im')],
        IsTruncated: true,
        NextMarker: 'ZGITTER',
        MaxItems: 3,
        Marker: '',
      })
      .on(ListHostedZonesCommand, { Marker: 'ZGITTER' })
      .resolves({ HostedZones: [zone('ZGITTER', 'gitter.im')], IsTruncated: false, MaxItems: 3, Marker: 'ZGITTER' });

    // Act
    const found = await findHostedZone(route53, '_acme-challenge.gitter.im', ['ZIM', 'ZGITTER']);

    // Assert
    expect(found).toEqual({ id: 'ZGITTER', name: 'gitter.im' });
    expect(route53Mock.commandCalls(ListHostedZonesCommand).map((c) => c.args[0].input.MaxItems)).toEqual([100, 100]);
  });

  test('no zone owns the name: HostedZoneNotFound saying to create or delegate it', async () => {
    route53Mock
      .on(ListHostedZonesCommand)
      .resolves({ HostedZones: [zone('ZORG', 'example.org')], IsTruncated: false, MaxItems: 100, Marker: '' });
    await expect(findHostedZone(route53, '_acme-challenge.gitter.im', ['ZORG'])).rejects.toThrow(
      new HostedZoneNotFound(
        'no public Route53 hosted zone owns _acme-challenge.gitter.im: create the zone (or delegate it) in this account, and list its id in certificateSource.acme.hostedZoneIds',
      ),
    );
  });

  test('two public zones of the same name, neither or both granted: ambiguous, both named', async () => {
    route53Mock
      .on(ListHostedZonesCommand)
      .resolves({ HostedZones: [zone('ZA', 'gitter.im'), zone('ZB', 'gitter.im')], IsTruncated: false, MaxItems: 100, Marker: '' });
    await expect(findHostedZone(route53, '_acme-challenge.gitter.im', ['ZA', 'ZB'])).rejects.toThrow(
      /2 public hosted zones are named gitter\.im \(ZA, ZB\)/,
    );
  });

  test('two public zones of the same name, exactly one granted: that one', async () => {
    route53Mock
      .on(ListHostedZonesCommand)
      .resolves({ HostedZones: [zone('ZA', 'gitter.im'), zone('ZB', 'gitter.im')], IsTruncated: false, MaxItems: 100, Marker: '' });
    await expect(findHostedZone(route53, '_acme-challenge.gitter.im', ['ZB'])).resolves.toEqual({ id: 'ZB', name: 'gitter.im' });
  });

  test('the owner is not granted: HostedZoneNotFound naming it and the config key to add it to', async () => {
    route53Mock
      .on(ListHostedZonesCommand)
      .resolves({ HostedZones: [zone('ZIM', 'im'), zone('ZGITTER', 'gitter.im')], IsTruncated: false, MaxItems: 100, Marker: '' });
    await expect(findHostedZone(route53, '_acme-challenge.gitter.im', ['ZIM'])).rejects.toThrow(
      /hosted zone ZGITTER \(gitter\.im\) owns _acme-challenge\.gitter\.im, but the stack grants TXT changes only in ZIM: add ZGITTER to certificateSource\.acme\.hostedZoneIds/,
    );
  });
});

describe('upsertTxt / waitInsync / deleteTxt', () => {
  const gitter = { id: 'ZGITTER', name: 'gitter.im' };

  test('one UPSERT holds every value of the name, quoted, with a short TTL', async () => {
    route53Mock
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } });
    await expect(upsertTxt(route53, gitter, '_acme-challenge.gitter.im', ['a1', 'b2'])).resolves.toBe('/change/C1');
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)[0].args[0].input.ChangeBatch?.Changes).toEqual([
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: '_acme-challenge.gitter.im',
          Type: 'TXT',
          TTL: 60,
          ResourceRecords: [{ Value: '"a1"' }, { Value: '"b2"' }],
        },
      },
    ]);
  });

  test('polls GetChange until INSYNC, sleeping the poll interval between', async () => {
    // Arrange
    route53Mock
      .on(GetChangeCommand)
      .resolvesOnce({ ChangeInfo: { Id: 'C1', Status: 'PENDING', SubmittedAt: new Date() } })
      .resolves({ ChangeInfo: { Id: 'C1', Status: 'INSYNC', SubmittedAt: new Date() } });
    const sleeps: number[] = [];

    // Act
    await waitInsync(route53, 'C1', 'TXT x', {
      timeoutSeconds: 60,
      pollSeconds: 5,
      now: () => new Date(0),
      sleep: (ms) => Promise.resolve(void sleeps.push(ms)),
    });

    // Assert
    expect(sleeps).toEqual([5000]);
  });

  test('a change still PENDING at the deadline is DnsChangeTimeout naming the change and the setting to raise', async () => {
    // Arrange: the clock moves with each sleep
    route53Mock.on(GetChangeCommand).resolves({ ChangeInfo: { Id: 'C1', Status: 'PENDING', SubmittedAt: new Date() } });
    let t = 0;

    // Act
    const waiting = waitInsync(route53, 'C1', 'TXT _acme-challenge.gitter.im', {
      timeoutSeconds: 30,
      pollSeconds: 10,
      now: () => new Date(t),
      sleep: (ms) => Promise.resolve(void (t += ms)),
    });

    // Assert
    await expect(waiting).rejects.toThrow(DnsChangeTimeout);
    await expect(waiting).rejects.toThrow(/C1 \(TXT _acme-challenge\.gitter\.im\) was still PENDING after 30 s.*dnsTimeoutSeconds/);
    expect(route53Mock.commandCalls(GetChangeCommand)).toHaveLength(4);
  });

  test('deleteTxt deletes the record set exactly as Route53 holds it; nothing there is a no-op', async () => {
    // Arrange
    const held = { Name: '_acme-challenge.gitter.im.', Type: 'TXT' as const, TTL: 60, ResourceRecords: [{ Value: '"old"' }] };
    route53Mock
      .on(ListResourceRecordSetsCommand)
      .resolvesOnce({ ResourceRecordSets: [held], IsTruncated: false, MaxItems: 1 })
      .resolves({
        ResourceRecordSets: [{ Name: 'www.gitter.im.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] }],
        IsTruncated: false,
        MaxItems: 1,
      });
    route53Mock
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C2', Status: 'PENDING', SubmittedAt: new Date() } });

    // Act
    const first = await deleteTxt(route53, gitter, '_acme-challenge.gitter.im', silentLogger);
    const second = await deleteTxt(route53, gitter, '_acme-challenge.gitter.im', silentLogger);

    // Assert
    expect([first, second]).toEqual([true, false]);
    const changes = route53Mock.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch?.Changes);
    expect(changes).toEqual([[{ Action: 'DELETE', ResourceRecordSet: held }]]);
  });
});
