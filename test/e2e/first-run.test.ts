/** The first run of a new user with CDK for Terraform (cdktf): see first-run-suite.ts. Lab 15. */
import { firstRunSuite } from './first-run-suite';

firstRunSuite('cdktf', 15);
