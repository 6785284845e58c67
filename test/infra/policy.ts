// A small IAM evaluator over a synthesized template: what may a function's role (or any principal) do to a
// given S3 key, Glue table or KMS key, after the role's policies and the bucket policy? Only what Tributary's
// policies use is modelled (Allow/Deny, action and resource wildcards, a few condition operators); a
// condition it does not know fails the test rather than being ignored.
import assert from 'node:assert/strict';
import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { TributaryStack } from '../../infra/stack.js';

export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export const BUCKET = 'arn:aws:s3:::lake-bucket';
export const KEY = 'arn:aws:kms:eu-west-1:000000000000:key/lake-key';

/** Placeholder text for the CloudFormation references of a statement, so patterns can be matched. */
export function resolver(stack: TributaryStack): (v: unknown) => string {
  const names = new Map<string, string>([[stack.getLogicalId(stack.lake.bucket.node.defaultChild as CfnElement), BUCKET]]);
  if (stack.lake.key) names.set(stack.getLogicalId(stack.lake.key.node.defaultChild as CfnElement), KEY);
  const pseudo = new Map([['AWS::Partition', 'aws'], ['AWS::Region', stack.region], ['AWS::AccountId', stack.account], ['AWS::URLSuffix', 'amazonaws.com']]);
  const text = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, unknown>;
    if ('Fn::Join' in o) { const [sep, parts] = o['Fn::Join'] as [string, unknown[]]; return parts.map(text).join(sep); }
    if ('Ref' in o) return pseudo.get(o['Ref'] as string) ?? names.get(o['Ref'] as string) ?? `<${o['Ref'] as string}>`;
    if ('Fn::GetAtt' in o) { const [id, attr] = o['Fn::GetAtt'] as [string, string]; return attr === 'Arn' && names.has(id) ? names.get(id)! : `<${id}.${attr}>`; }
    return JSON.stringify(v);
  };
  return text;
}

/** The statements of every policy attached to a function's role. */
export function roleStatements(stack: TributaryStack, template: Template, fn: IFunction): Statement[] {
  const roleId = (stack.resolve(fn.role!.roleArn) as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return principalStatements(template, roleId);
}

/** The statements of every AWS::IAM::Policy attached to the role with this logical id. */
export function principalStatements(template: Template, roleId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { Roles?: unknown[]; PolicyDocument: { Statement: Statement[] } } }>;
  return policies.filter((p) => JSON.stringify(p.Properties.Roles ?? []).includes(`"${roleId}"`)).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** The lake bucket's policy (not the access-log bucket's). */
export function bucketPolicy(stack: TributaryStack, template: Template): Statement[] {
  const bucketId = stack.getLogicalId(stack.lake.bucket.node.defaultChild as CfnElement);
  const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')) as Array<{ Properties: { Bucket: unknown; PolicyDocument: { Statement: Statement[] } } }>;
  const lake = policies.filter((p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: bucketId }));
  assert.equal(lake.length, 1, 'one policy on the lake bucket');
  return lake[0]!.Properties.PolicyDocument.Statement;
}

const wildcard = (pattern: string): RegExp => new RegExp(`^${pattern.split('*').map((p) => p.split('?').map((s) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('.')).join('.*')}$`);
const list = (v: unknown): unknown[] => ([] as unknown[]).concat(v);

export type Context = Readonly<Record<string, string>>;

function conditionHolds(condition: Statement['Condition'], context: Context, text: (v: unknown) => string): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, raw] of Object.entries(entries)) {
      const values = list(raw).map(text);
      const actual = context[key];
      switch (operator) {
        case 'StringLike': case 'ArnLike': if (actual === undefined || !values.some((v) => wildcard(v).test(actual))) return false; break;
        case 'StringEquals': case 'ArnEquals': if (actual === undefined || !values.includes(actual)) return false; break;
        // Negated operators hold when the key is absent (IAM's rule).
        case 'StringNotLike': case 'ArnNotLike': if (actual !== undefined && values.some((v) => wildcard(v).test(actual))) return false; break;
        case 'ArnNotEquals': case 'StringNotEquals': if (actual !== undefined && values.includes(actual)) return false; break;
        case 'Bool': if (actual === undefined || !values.includes(actual)) return false; break;
        default: assert.fail(`the evaluator does not know condition operator ${operator}`);
      }
    }
  }
  return true;
}

function matches(s: Statement, action: string, resource: string, context: Context, text: (v: unknown) => string): boolean {
  if (!list(s.Action).some((a) => wildcard(String(a)).test(action))) return false;
  if (!list(s.Resource).map(text).some((r) => wildcard(r).test(resource))) return false;
  return conditionHolds(s.Condition, context, text);
}

export interface Decision {
  readonly allowed: boolean;
  readonly deniedBy?: 'role' | 'bucket';
}

/**
 * Same-account access: allowed when the role's policies allow it and no Deny in the role's policies or in
 * the bucket policy (for the principal's ARN) matches. The bucket policy here only denies.
 */
export function decide(identity: readonly Statement[], resourcePolicy: readonly Statement[], request: { action: string; resource: string; principalArn: string; context?: Context }, text: (v: unknown) => string): Decision {
  const context: Context = { 'aws:PrincipalArn': request.principalArn, 'aws:SecureTransport': 'true', ...request.context };
  for (const s of resourcePolicy) assert.notEqual(s.Effect, 'Allow', 'the bucket policy grants nothing; roles carry the grants');
  if (identity.some((s) => s.Effect === 'Deny' && matches(s, request.action, request.resource, context, text))) return { allowed: false, deniedBy: 'role' };
  if (resourcePolicy.some((s) => s.Effect === 'Deny' && matches(s, request.action, request.resource, context, text))) return { allowed: false, deniedBy: 'bucket' };
  return { allowed: identity.some((s) => s.Effect === 'Allow' && matches(s, request.action, request.resource, context, text)) };
}
