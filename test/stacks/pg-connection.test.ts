/**
 * Where Terraform's pg backend (lib/pq) connects, as stacks/pg-connection.ts works it out for the
 * shard guard: libpq's key=value words and postgres:// URLs, the PG* variables under them, the
 * defaults, the sslmodes lib/pq knows, and messages that never carry the password.
 */
import {
  describePgTarget,
  parseConnectionUrl,
  parseKeywordValues,
  PgConnectionError,
  pgTarget,
  withoutSecrets,
} from '../../stacks/pg-connection';

const target = (connStr: string | undefined, env: Record<string, string> = {}) => pgTarget(connStr, env, 'me');

test("libpq's key=value words: quotes, backslashes, spaces around =, a later key wins", () => {
  expect([...parseKeywordValues(`host=/tmp/x  user = postgres password='a b\\'c' dbname=d\\ e port=1`)]).toEqual([
    ['host', '/tmp/x'],
    ['user', 'postgres'],
    ['password', "a b'c"],
    ['dbname', 'd e'],
    ['port', '1'],
  ]);
  expect(parseKeywordValues('user=a user=b').get('user')).toBe('b');
  expect(parseKeywordValues("password=''").get('password')).toBe('');
  expect(parseKeywordValues('password=').get('password')).toBe('');
  expect(parseKeywordValues('  ').size).toBe(0);
  expect(parseKeywordValues("a='x\\\\y'").get('a')).toBe('x\\y');
});

test('a broken key=value string: refused, naming the key and never the value', () => {
  const problem = (text: string) => {
    try {
      parseKeywordValues(text);
    } catch (err) {
      expect(err).toBeInstanceOf(PgConnectionError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  };
  expect(problem("user=u password='s3cret")).toBe('the quoted value of "password" is not closed');
  expect(problem('user=u password s3cret')).toBe('missing "=" after "password"');
  expect(problem('password=s3cret\\')).toBe('a backslash ends the value of "password"');
  for (const text of ["password='s3cret", 'password=s3cret\\']) expect(problem(text)).not.toContain('s3cret');
});

test('a postgres:// URL: user, %-encoded password, host, port, database and query keys', () => {
  expect(
    Object.fromEntries(parseConnectionUrl('postgres://tf:p%40ss%3Aw@db.example:6432/states?sslmode=verify-full')),
  ).toEqual({
    user: 'tf',
    password: 'p@ss:w',
    host: 'db.example',
    port: '6432',
    dbname: 'states',
    sslmode: 'verify-full',
  });
  expect(Object.fromEntries(parseConnectionUrl('postgresql://[fd00:198:18::1]/x'))).toEqual({
    host: 'fd00:198:18::1',
    dbname: 'x',
  });
  expect(Object.fromEntries(parseConnectionUrl('postgres:///x?host=/run/pg'))).toEqual({
    dbname: 'x',
    host: '/run/pg',
  });
  expect(() => parseConnectionUrl('postgres://u:%zz@h/x')).toThrow('password is not validly %-encoded');
  expect(() => parseConnectionUrl('postgres://[x/x')).toThrow(PgConnectionError);
});

test('what the string leaves out comes from the PG* variables, then the defaults', () => {
  expect(target(undefined)).toEqual({ host: 'localhost', port: 5432, database: 'me', user: 'me', sslMode: 'require' });
  expect(
    target('dbname=tf', {
      PGHOST: 'db',
      PGPORT: '6000',
      PGUSER: 'u',
      PGPASSWORD: 'pw',
      PGDATABASE: 'ignored',
      PGSSLMODE: 'verify-ca',
      PGSSLROOTCERT: '/ca.pem',
      PGCONNECT_TIMEOUT: '7',
    }),
  ).toEqual({
    host: 'db',
    port: 6000,
    database: 'tf',
    user: 'u',
    password: 'pw',
    sslMode: 'verify-ca',
    sslRootCert: '/ca.pem',
    connectTimeout: 7,
  });
  // The string wins over the variables; an empty variable counts as unset.
  expect(target('host=a user=b', { PGHOST: 'x', PGUSER: '' })).toMatchObject({ host: 'a', user: 'b', database: 'b' });
  expect(target('postgres://u@h/d', { PGPASSWORD: 'pw' })).toMatchObject({ user: 'u', password: 'pw', database: 'd' });
  expect(target('connect_timeout=0')).not.toHaveProperty('connectTimeout');
  expect(target('sslcert=/c sslkey=/k')).toMatchObject({ sslCert: '/c', sslKey: '/k' });
});

test('sslmode: require by default, the four lib/pq knows, never over a unix socket', () => {
  expect(target('host=db').sslMode).toBe('require');
  for (const mode of ['disable', 'require', 'verify-ca', 'verify-full'] as const)
    expect(target(`host=db sslmode=${mode}`).sslMode).toBe(mode);
  expect(target('host=/run/postgresql sslmode=verify-full').sslMode).toBe('disable');
  expect(() => target('host=db sslmode=prefer')).toThrow(/sslmode "prefer" is not one Terraform's pg backend supports/);
});

test('a bad port or timeout is refused', () => {
  for (const port of ['0', '65536', 'x', '-1', '5432x'])
    expect(() => target(`port=${port}`)).toThrow('port: not a port number');
  expect(target('port=65535').port).toBe(65535);
  expect(target('port=1').port).toBe(1);
  expect(() => target('connect_timeout=1.5')).toThrow('connect_timeout: not a whole number of seconds');
});

test('a message names the database, never its password', () => {
  expect(describePgTarget(target('host=/tmp/calico-pg-1 user=postgres password=s3cret dbname=postgres'))).toBe(
    'PostgreSQL database "postgres" on the unix socket in /tmp/calico-pg-1 (port 5432) as user "postgres"',
  );
  expect(describePgTarget(target('postgres://tf:s3cret@db.example:6432/states'))).toBe(
    'PostgreSQL database "states" on db.example:6432 as user "tf"',
  );
  expect(describePgTarget(target('host=fd00:198:18::1'))).toBe(
    'PostgreSQL database "me" on [fd00:198:18::1]:5432 as user "me"',
  );
  expect(withoutSecrets('auth for s3cret failed: s3cret', ['s3cret', undefined, ''])).toBe('auth for *** failed: ***');
  expect(withoutSecrets('nothing to hide', [undefined])).toBe('nothing to hide');
});
