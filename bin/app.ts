/** The CDK app (cdk.json runs it with tsx): configuration from the context, then the two stacks of one stage. */
import { App } from 'aws-cdk-lib';
import { createStacks } from '../lib/app';
import { configFromContext } from '../lib/config';

const app = new App();
createStacks(app, configFromContext(app.node));
app.synth();
