// `npx cdk synth|deploy -c env=<name>`: one stack per environment from cdk.json, checked by cdk-nag.
import { App, Validations } from 'aws-cdk-lib';
import { fileURLToPath } from 'node:url';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SchemaDefinitionError, SchemaFiles } from '../functions/adapters/schema-files.js';
import { EnvironmentConfigError, parseEnvironment, type EnvironmentConfig } from './config.js';
import { acknowledgeFindings } from './nag.js';
import { TributaryStack } from './stack.js';

const app = new App();
let config: EnvironmentConfig;
try {
  config = parseEnvironment(app.node.tryGetContext('env'), app.node.tryGetContext('environments'));
} catch (err) {
  if (!(err instanceof EnvironmentConfigError)) throw err;
  console.error(`tributary: ${err.message}`);
  process.exit(1);
}
// The schema files ship in the bundle and are read at every cold start: one that cannot be read would fail
// each invocation, so it fails the synth instead, with its path.
try {
  SchemaFiles.load(fileURLToPath(new URL('../schemas/events', import.meta.url)));
} catch (err) {
  if (!(err instanceof SchemaDefinitionError)) throw err;
  console.error(`tributary: ${err.message}`);
  process.exit(1);
}
const stack = new TributaryStack(app, `tributary-${config.name}`, { config, description: `Tributary (${config.name}): Kafka → S3 lake + Glue + ClickHouse` });
acknowledgeFindings(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
