/**
 * The parameters of the node deploy document (its script: `deployScript()`), in one place: the CDK
 * document declares them from here, and whoever runs the script (the node phases' SendCommand,
 * the rehearsal's nginx nodes, the tests) builds its values with {@link deployParameters} and,
 * outside SSM, its environment with {@link scriptEnvironment}.
 *
 * Every parameter is a String with `interpolationType: ENV_VAR`: the SSM Agent hands it to the
 * script as the environment variable `SSM_<name>` and never pastes it into the script text, and
 * an `allowedPattern` refuses anything else at SendCommand. No parameter carries key material:
 * the script fetches the key itself from Secrets Manager with the instance role.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config';

/** The script's files, in order: their text joined is the document's script. */
export const DEPLOY_SCRIPT_PARTS: readonly string[] = [
  join(__dirname, 'deploy-certificate.sh'),
  join(__dirname, 'deploy-certificate-changes.sh'),
];

/** The document's script, read at synth (the rehearsal and the tests run exactly this text). */
export function deployScript(): string {
  return DEPLOY_SCRIPT_PARTS.map((f) => readFileSync(f, 'utf8')).join('');
}

const PATH = '^/[A-Za-z0-9_./-]+$';
// A command line without shell operators, quotes or expansions ($ ` ; | & < > ( ) { } ' " \).
const COMMAND = '^[A-Za-z0-9_ ./:=@%+,-]+$';

export interface DeployParameterSpec {
  readonly description: string;
  readonly allowedPattern?: string;
  readonly allowedValues?: readonly string[];
  /** A fixed default; defaults that come from the config are filled in by the document. */
  readonly default?: string;
}

/** Every document parameter, by name. */
export const DEPLOY_PARAMETERS = {
  action: {
    description:
      'install: deploy the certificate of secretId, verified by expectedSha256. rollback: restore the backup the last install kept.',
    allowedValues: ['install', 'rollback'],
  },
  secretId: {
    description:
      'ARN (or name) of the certificate secret {"certificate", "privateKey", "chain"}; the node reads it with its instance role. Unused by rollback.',
    allowedPattern: '^((arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:)?[A-Za-z0-9/_+=.@-]{1,512})?$',
    default: '',
  },
  expectedSha256: {
    description: 'SHA-256 fingerprint the node must serve after install (required), or that the backup must hold for rollback (optional).',
    allowedPattern: '^([0-9A-Fa-f]{64}|([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2})?$',
    default: '',
  },
  certificatePath: { description: 'Where nginx reads the certificate (written as leaf + chain).', allowedPattern: PATH },
  keyPath: { description: 'Where nginx reads the private key (written mode 0600).', allowedPattern: PATH },
  chainPath: {
    description: 'Optional: also write the chain alone here (ssl_trusted_certificate).',
    allowedPattern: `(${PATH})|^$`,
    default: '',
  },
  owner: {
    description: 'chown of the written files (user or user:group); empty keeps the running user.',
    allowedPattern: '^([A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?)?$',
    default: 'root:root',
  },
  nginxTestCommand: { description: 'Tests the nginx configuration; a failure restores the backup.', allowedPattern: COMMAND },
  nginxReloadCommand: { description: 'Reloads nginx.', allowedPattern: COMMAND },
  connectHost: { description: 'Address of the local TLS handshake check.', allowedPattern: '^[A-Za-z0-9_.:-]+$', default: '127.0.0.1' },
  port: { description: 'Port of the local TLS handshake check.', allowedPattern: '^[0-9]{1,5}$', default: '443' },
  serverName: { description: 'SNI name of the local TLS handshake check.', allowedPattern: '^[A-Za-z0-9_.-]+$' },
  monitFiles: {
    description: 'Space-separated monit control files whose certmd5 of the replaced certificate becomes the new one; empty for none.',
    allowedPattern: '^(/[A-Za-z0-9_./-]+( /[A-Za-z0-9_./-]+)*)?$',
    default: '',
  },
  monitReloadCommand: { description: 'Run after a monit file changed.', allowedPattern: COMMAND, default: 'monit reload' },
  verifyAttempts: {
    description: 'TLS handshakes tried after a reload before it counts as not served.',
    allowedPattern: '^[0-9]{1,3}$',
    default: '10',
  },
  verifyIntervalSeconds: { description: 'Pause between those handshakes.', allowedPattern: '^[0-9]{1,2}$', default: '1' },
} as const satisfies Record<string, DeployParameterSpec>;

export type DeployParameterName = keyof typeof DEPLOY_PARAMETERS;
export type DeployParameters = Readonly<Record<DeployParameterName, string>>;

/** The defaults the document takes from the config (where nginx reads its files, how it is tested and reloaded). */
export function configDefaults(config: ResolvedConfig): Partial<DeployParameters> {
  return {
    certificatePath: config.nginx.certificatePath,
    keyPath: config.nginx.keyPath,
    nginxTestCommand: config.nginx.testCommand,
    nginxReloadCommand: config.nginx.reloadCommand,
    serverName: config.domain,
    ...(config.monit?.controlFiles ? { monitFiles: config.monit.controlFiles.join(' ') } : {}),
    ...(config.monit?.reloadCommand ? { monitReloadCommand: config.monit.reloadCommand } : {}),
  };
}

/**
 * Every parameter's value: the given ones over the defaults (fixed, then `config`'s). Throws,
 * naming them, when a value breaks its pattern or a parameter without a default is missing, as
 * SendCommand would.
 */
export function deployParameters(
  values: Partial<DeployParameters> & Pick<DeployParameters, 'action'>,
  defaults: Partial<DeployParameters> = {},
): DeployParameters {
  const out: Partial<Record<DeployParameterName, string>> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(DEPLOY_PARAMETERS) as Array<[DeployParameterName, DeployParameterSpec]>) {
    const value = values[name] ?? defaults[name] ?? spec.default;
    if (value === undefined) problems.push(`${name} is required`);
    else if (spec.allowedValues && !spec.allowedValues.includes(value))
      problems.push(`${name} must be one of ${spec.allowedValues.join(', ')}`);
    else if (spec.allowedPattern && !new RegExp(spec.allowedPattern).test(value))
      problems.push(`${name} "${value}" does not match ${spec.allowedPattern}`);
    else out[name] = value;
  }
  if (problems.length > 0) throw new Error(`deploy document parameters: ${problems.join('; ')}`);
  return out as DeployParameters;
}

/** The environment the SSM Agent gives the script for these values (`SSM_<name>`, interpolationType ENV_VAR). */
export function scriptEnvironment(parameters: DeployParameters): Record<string, string> {
  return Object.fromEntries(Object.entries(parameters).map(([name, value]) => [`SSM_${name}`, value]));
}
