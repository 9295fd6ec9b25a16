// --defrag-rule: etcd-defrag's variables and Go-like expressions, evaluated in float64; bad rules refused
// at parse time with a message that says where.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefragRule, DefragRuleError } from '../../../../server/src/ctl/defrag-rule.js';
import { ruleVars, ruleVarsText, type DefragRuleVars } from '../../../../server/src/ctl/defrag-rule-vars.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A member with a 1 GiB file of which 300 MiB hold data, quota 2 GiB. */
const vars: DefragRuleVars = ruleVars({ dbSize: GiB, dbSizeInUse: 300 * MiB, dbSizeQuota: 2 * GiB }, 8 * GiB);

const evalRule = (text: string, v: DefragRuleVars = vars): boolean => DefragRule.parse(text).evaluate(v);

describe('defrag rule variables', () => {
  it('derives dbSizeFree and dbQuotaUsage; dbQuota is the reported quota when non-zero', () => {
    assert.deepEqual(vars, {
      dbSize: GiB,
      dbSizeInUse: 300 * MiB,
      dbSizeFree: GiB - 300 * MiB,
      dbQuota: 2 * GiB,
      dbQuotaUsage: 0.5,
    });
  });

  it('falls back to --quota-backend-bytes when Status reports no quota (etcd < 3.6)', () => {
    const v = ruleVars({ dbSize: GiB, dbSizeInUse: GiB, dbSizeQuota: 0 }, 4 * GiB);
    assert.equal(v.dbQuota, 4 * GiB);
    assert.equal(v.dbQuotaUsage, 0.25);
  });

  it('prints the values for a Skipped line', () => {
    assert.equal(
      ruleVarsText(ruleVars({ dbSize: 300, dbSizeInUse: 100, dbSizeQuota: 900 }, 1)),
      'dbSize=300 dbSizeInUse=100 dbSizeFree=200 dbQuota=900 dbQuotaUsage=0.3333',
    );
  });
});

describe('defrag rule evaluation', () => {
  it('the empty rule is always true', () => {
    assert.equal(DefragRule.parse('').empty, true);
    assert.equal(evalRule('   '), true);
  });

  it("etcd-defrag's README examples", () => {
    assert.equal(evalRule('dbSize > dbQuota*80/100 || dbSize - dbSizeInUse > 200*1024*1024'), true);
    assert.equal(evalRule('dbSize > dbQuota*80/100 && dbSize - dbSizeInUse > 200*1024*1024'), false);
    assert.equal(evalRule('dbQuotaUsage > 0.8 || dbSize - dbSizeInUse > 200*1024*1024'), true);
    assert.equal(evalRule('dbQuotaUsage > 0.8 || dbSizeFree > 800*1024*1024'), false);
  });

  it('each variable is read', () => {
    assert.equal(evalRule(`dbSize == ${GiB}`), true);
    assert.equal(evalRule(`dbSizeInUse == ${300 * MiB}`), true);
    assert.equal(evalRule(`dbSizeFree == ${GiB - 300 * MiB}`), true);
    assert.equal(evalRule(`dbQuota == 2*1024*1024*1024`), true);
    assert.equal(evalRule('dbQuotaUsage == 0.5'), true);
  });

  it('numbers are float64: no integer truncation, and int and fraction mix', () => {
    assert.equal(evalRule('7/2 == 3.5'), true);
    assert.equal(evalRule('dbSize > 0.4*dbQuota'), true);
    assert.equal(evalRule('dbSize > 0.6*dbQuota'), false);
    assert.equal(evalRule('1e3 == 1000 && .5 == 0.5'), true);
    assert.equal(evalRule('7 % 4 == 3'), true);
  });

  it("Go's precedence: * / % before + -, then comparisons, then &&, then ||", () => {
    assert.equal(evalRule('1 + 2 * 3 == 7'), true);
    assert.equal(evalRule('(1 + 2) * 3 == 9'), true);
    assert.equal(evalRule('10 - 4 - 3 == 3'), true); // left-associative
    assert.equal(evalRule('64 / 4 / 2 == 8'), true);
    assert.equal(evalRule('true || false && false'), true); // && binds tighter
    assert.equal(evalRule('(true || false) && false'), false);
    assert.equal(evalRule('!false && 1 < 2'), true);
    assert.equal(evalRule('!(1 < 2)'), false);
    assert.equal(evalRule('-dbSize < 0 && - -1 == 1 && +2 == 2'), true);
    assert.equal(evalRule('1 <= 1 && 1 >= 1 && 1 != 2 && (1 < 2) == true'), true);
  });

  it('follows the variables of each member', () => {
    const rule = DefragRule.parse('dbSizeFree > 100*1024*1024');
    assert.equal(
      rule.evaluate(ruleVars({ dbSize: 200 * MiB, dbSizeInUse: 50 * MiB, dbSizeQuota: GiB }, 1)),
      true,
    );
    assert.equal(
      rule.evaluate(ruleVars({ dbSize: 200 * MiB, dbSizeInUse: 150 * MiB, dbSizeQuota: GiB }, 1)),
      false,
    );
  });
});

describe('bad rules are refused when parsed', () => {
  const cases: [string, RegExp][] = [
    ['dbSize >', /^unexpected end of the rule$/],
    ['dbSize > > 1', /^unexpected ">" at column 10$/],
    ['(dbSize > 1', /^unexpected end of the rule$/],
    ['dbSize > 1)', /^unexpected "\)" at column 11$/],
    [
      'dbsize > 1',
      /^unknown variable "dbsize" at column 1 \(known: dbSize, dbSizeInUse, dbSizeFree, dbQuota, dbQuotaUsage\)$/,
    ],
    ['dbSize > 1 $', /^unexpected character "\$" at column 12$/],
    ['dbSize = 1', /^unexpected character "=" at column 8$/],
    ['dbSize', /^the rule is a number, not a condition$/],
    ['dbSize * 2', /^the rule is a number, not a condition$/],
    ['dbSize && true', /^operator && needs a condition on each side$/],
    ['!dbSize', /^operator ! needs a condition on each side$/],
    ['1 < 2 < 3', /^operator < needs a number on each side$/],
    ['(1 < 2) + 1 > 0', /^operator \+ needs a number on each side$/],
    ['dbSize == true', /^operator == compares a number with a condition$/],
    ['1e999 > 0', /^number 1e999 out of range$/],
    [`${'('.repeat(100)}true${')'.repeat(100)}`, /^nested deeper than 64 levels$/],
  ];
  for (const [text, want] of cases) {
    it(JSON.stringify(text.length > 40 ? `${text.slice(0, 20)}…` : text), () => {
      assert.throws(
        () => DefragRule.parse(text),
        (err: unknown) => err instanceof DefragRuleError && want.test(err.message),
      );
    });
  }
});
