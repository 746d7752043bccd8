/**
 * Our shape of the CDK library (constructs/cdk-types.ts) is what our published declarations name
 * instead of `cdktf`. Each library must fit it: these assignments do not compile (and ts-jest
 * fails this suite) the day either library, or the shape, moves apart from the other.
 */
import type * as Cdktf from 'cdktf';
import type * as Cdktn from 'cdktn';
import type { CdkLibrary } from '../../constructs/cdk-types';
import { cdk } from '../../constructs/cdk';

type Fits<Lib> = Lib extends CdkLibrary ? true : false;
const cdktfFits: Fits<typeof Cdktf> = true;
const cdktnFits: Fits<typeof Cdktn> = true;

test('cdktf and cdktn both fit the shape our declarations name', () => {
  expect([cdktfFits, cdktnFits]).toEqual([true, true]);
});

test('the library loaded at run time has every function of the shape', () => {
  const functions: [string, unknown][] = [
    ['App', cdk.App],
    ['TerraformStack', cdk.TerraformStack],
    ['TerraformStack.of', cdk.TerraformStack.of],
    ['TerraformProvider', cdk.TerraformProvider],
    ['TerraformResource', cdk.TerraformResource],
    ['LocalBackend', cdk.LocalBackend],
    ['PgBackend', cdk.PgBackend],
    ['Annotations.of', cdk.Annotations.of],
    ['Lazy.stringValue', cdk.Lazy.stringValue],
    ['Lazy.numberValue', cdk.Lazy.numberValue],
    ['Lazy.listValue', cdk.Lazy.listValue],
    ['Lazy.anyValue', cdk.Lazy.anyValue],
    ['Token.isUnresolved', cdk.Token.isUnresolved],
    ['Token.asString', cdk.Token.asString],
    ['Token.asNumber', cdk.Token.asNumber],
    ['Token.asList', cdk.Token.asList],
    ['Token.asStringMap', cdk.Token.asStringMap],
    ['Token.asAny', cdk.Token.asAny],
    ['Fn.sha256', cdk.Fn.sha256],
    ['hashMapper', cdk.hashMapper],
    ['stringToTerraform', cdk.stringToTerraform],
  ];
  expect(functions.filter(([, f]) => typeof f !== 'function').map(([name]) => name)).toEqual([]);
});
