/**
 * SSM Command documents of the simulated account: the rehearsal registers the stack's own
 * document (the synthesized template's `AWS::SSM::Document`), and SendCommand checks its
 * parameters against it as SSM does: an unknown parameter, a missing one without a default, or a
 * value outside `allowedValues` / `allowedPattern` is `InvalidParameters`; an unknown document is
 * `InvalidDocument`. Only schema 2.2 documents with `aws:runShellScript` steps are run.
 */
import { awsError } from './errors';

/** One parameter as a schema 2.2 document declares it. */
export interface SimDocumentParameter {
  readonly type?: string;
  readonly default?: string;
  readonly allowedValues?: readonly string[];
  readonly allowedPattern?: string;
  readonly interpolationType?: string;
}

/** A registered Command document. */
export interface SimDocument {
  readonly name: string;
  readonly version: string;
  readonly parameters: Readonly<Record<string, SimDocumentParameter>>;
  /** The `aws:runShellScript` steps: name, the script text (runCommand lines joined), and the step's execution timeout. */
  readonly steps: ReadonlyArray<{ readonly name: string; readonly script: string; readonly timeoutSeconds: number }>;
}

/** Default execution timeout of an `aws:runShellScript` step (SSM: 3600 seconds). */
const DEFAULT_STEP_TIMEOUT = 3600;
const NAME_RE = /^[a-zA-Z0-9_\-.]{3,128}$/;

/** Parses a schema 2.2 Command document (its JSON content as an object or text). Throws naming what is wrong. */
export function parseCommandDocument(name: string, content: unknown): SimDocument {
  if (!NAME_RE.test(name)) throw new Error(`SSM document name "${name}" is not valid`);
  const doc = (typeof content === 'string' ? JSON.parse(content) : content) as {
    schemaVersion?: unknown;
    parameters?: Record<string, SimDocumentParameter>;
    mainSteps?: Array<{ action?: unknown; name?: unknown; inputs?: { runCommand?: unknown; timeoutSeconds?: unknown } }>;
  };
  if (doc?.schemaVersion !== '2.2') throw new Error(`SSM document ${name}: only schemaVersion 2.2 is simulated`);
  const steps = (doc.mainSteps ?? []).map((step, i) => {
    if (step.action !== 'aws:runShellScript') throw new Error(`SSM document ${name}: step ${i} is not aws:runShellScript`);
    const lines = step.inputs?.runCommand;
    const script = Array.isArray(lines) ? lines.map(String).join('\n') : typeof lines === 'string' ? lines : '';
    const timeout = Number(step.inputs?.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT);
    return {
      name: typeof step.name === 'string' ? step.name : `step${i}`,
      script,
      timeoutSeconds: Number.isFinite(timeout) ? timeout : DEFAULT_STEP_TIMEOUT,
    };
  });
  if (steps.length === 0) throw new Error(`SSM document ${name}: no mainSteps`);
  return { name, version: '1', parameters: doc.parameters ?? {}, steps };
}

/**
 * The value of every parameter for a SendCommand: the given ones (SSM takes each as a list of
 * strings; a String parameter takes exactly one) over the document's defaults. Throws
 * `InvalidParameters` as SSM does.
 */
export function resolveParameters(
  doc: SimDocument,
  given: Readonly<Record<string, readonly string[]>> | undefined,
): Record<string, string> {
  const problems: string[] = [];
  const out: Record<string, string> = {};
  for (const key of Object.keys(given ?? {})) {
    if (!Object.hasOwn(doc.parameters, key)) problems.push(`${key} is not a parameter of the document`);
  }
  for (const [key, spec] of Object.entries(doc.parameters)) {
    const values = given?.[key];
    if (values !== undefined && values.length !== 1) {
      problems.push(`${key} takes exactly one value (a String parameter)`);
      continue;
    }
    const value = values?.[0] ?? spec.default;
    if (value === undefined) problems.push(`${key} is required`);
    else if (spec.allowedValues && !spec.allowedValues.includes(value))
      problems.push(`${key} must be one of ${spec.allowedValues.join(', ')}`);
    else if (spec.allowedPattern && !new RegExp(spec.allowedPattern).test(value))
      problems.push(`${key} does not match ${spec.allowedPattern}`);
    else out[key] = value;
  }
  if (problems.length > 0) {
    throw awsError('InvalidParameters', `Invalid parameters for document ${doc.name}: ${problems.join('; ')}`);
  }
  return out;
}
