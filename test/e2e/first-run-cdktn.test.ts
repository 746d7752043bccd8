/** The first run of a new user with CDK Terrain (cdktn): see first-run-suite.ts. Lab 90. */
import { firstRunSuite } from './first-run-suite';

firstRunSuite('cdktn', 90);
