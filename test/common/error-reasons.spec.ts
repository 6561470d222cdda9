import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { SHARED_CATALOG_TYPE, SHARED_SECTION } from '../../src/nodered/i18n';

/**
 * Every InstrumentError a user can see names a catalog reason (details.reason): src/nodered/i18n.ts
 * says an error in the runtime's language only through its reason, so one without a reason shows
 * English to a German user. The type checker decides, not a pattern: details built by a helper
 * (ReasonDetails), spread from another object or held in a variable count when their type has a
 * `reason` that is not optional.
 */

const root = path.resolve(__dirname, '..', '..');
/** Where errors a user sees are made (simulators and the CLI talk to developers, in English). */
const SCANNED = /^src\/(protocols|nodes|nodered)\//;

const FOREIGN = 'wraps an error that is not an InstrumentError: its own text is all there is to say, in no catalog';

/** Errors without a reason on purpose: the file, the message argument as written, and why. */
const WITHOUT_REASON: ReadonlyArray<{ file: string; message: string; why: string }> = [
  {
    file: 'src/protocols/common/pending-requests.ts',
    message: '`request id ${key} is already in flight`',
    why: 'an internal invariant: the only user, the neoEBV client, numbers its calls itself, so two never share an id',
  },
  {
    file: 'src/protocols/semiate/tester.ts',
    message: '`stopped waiting for ${awaited}`',
    why: 'never seen: only send() cancels a wait, when sending failed, and it reports that failure and drops this error',
  },
  {
    file: 'src/nodered/i18n.ts',
    message: 'text',
    why: 'localizedError(): the copy of an error that has a reason, with its details (the reason too) and its sentence already localized',
  },
  { file: 'src/protocols/bpwin/event-stream.ts', message: 'String(err)', why: FOREIGN },
  { file: 'src/protocols/bpwin/job-stats-poller.ts', message: 'errorMessage(err)', why: FOREIGN },
  { file: 'src/protocols/common/tcp-connection.ts', message: 'String(err)', why: FOREIGN },
  { file: 'src/protocols/nebv/client.ts', message: 'errorMessage(err)', why: FOREIGN },
];

/** A message taken from the node's own catalog (user.text, RED._) is in the runtime's language already. */
function isCatalogText(message: ts.Expression | undefined): boolean {
  return (
    message !== undefined &&
    ts.isCallExpression(message) &&
    ts.isPropertyAccessExpression(message.expression) &&
    ['text', '_'].includes(message.expression.name.text)
  );
}

interface Made {
  file: string;
  line: number;
  message: string;
  /** The `reason` its details are sure to have, if any. */
  hasReason: boolean;
  /** The reasons it may name, when the code spells them (a literal, a choice of literals, a const table). */
  reasons: string[];
  catalogText: boolean;
}

/** The string literals a `reason` property's value can be, when its type says so (`{ reason }` too: a helper's parameter of a union type). */
function literalReasons(checker: ts.TypeChecker, details: ts.Expression): string[] {
  if (!ts.isObjectLiteralExpression(details)) return [];
  const property = details.properties.find((p) => p.name !== undefined && ts.isIdentifier(p.name) && p.name.text === 'reason');
  const value =
    property && ts.isPropertyAssignment(property)
      ? property.initializer
      : property && ts.isShorthandPropertyAssignment(property)
        ? property.name
        : undefined;
  if (!value) return [];
  const type = checker.getTypeAtLocation(value);
  const parts = type.isUnion() ? type.types : [type];
  return parts.filter((t): t is ts.StringLiteralType => t.isStringLiteral()).map((t) => t.value);
}

/** Every `new InstrumentError(…)` in the scanned sources, and details passed to helpers as ReasonDetails. */
function scan(): { made: Made[]; helperReasons: Array<{ file: string; line: number; reasons: string[] }> } {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    },
  )!;
  const program = ts.createProgram({ rootNames: config.fileNames, options: { ...config.options, noEmit: true } });
  const checker = program.getTypeChecker();
  const made: Made[] = [];
  const helperReasons: Array<{ file: string; line: number; reasons: string[] }> = [];
  for (const source of program.getSourceFiles()) {
    const file = path.relative(root, source.fileName).split(path.sep).join('/');
    if (!SCANNED.test(file)) continue;
    const lineOf = (node: ts.Node): number => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'InstrumentError') {
        const [, message, details] = node.arguments ?? [];
        const reason = details && checker.getTypeAtLocation(details).getProperty('reason');
        made.push({
          file,
          line: lineOf(node),
          message: message?.getText(source) ?? '',
          hasReason: reason !== undefined && (reason.flags & ts.SymbolFlags.Optional) === 0,
          reasons: details ? literalReasons(checker, details) : [],
          catalogText: isCatalogText(message),
        });
      } else if (ts.isObjectLiteralExpression(node) && checker.getContextualType(node)?.aliasSymbol?.name === 'ReasonDetails') {
        helperReasons.push({ file, line: lineOf(node), reasons: literalReasons(checker, node) });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { made, helperReasons };
}

describe('reasons of errors (what a German runtime can say in German)', function () {
  // One type-checked program of src: a few seconds, more on a busy machine.
  this.timeout(120_000);
  let found: ReturnType<typeof scan>;
  before(() => {
    found = scan();
  });

  it('finds the errors the code makes', () => {
    assert.ok(found.made.length > 150, `InstrumentErrors found: ${found.made.length}`);
    assert.ok(found.helperReasons.length > 40, `details given to helpers found: ${found.helperReasons.length}`);
  });

  it('gives every InstrumentError a user can see a reason for the catalogs', () => {
    const listed = (m: Made): boolean => WITHOUT_REASON.some((w) => w.file === m.file && w.message === m.message);
    const missing = found.made
      .filter((m) => !m.hasReason && !m.catalogText && !listed(m))
      .map((m) => `${m.file}:${m.line} new InstrumentError(…, ${m.message.slice(0, 80)}, …) has no details.reason`);
    assert.deepEqual(missing, [], 'add { reason: … } and its sentence to locales/*/bpwin-events.json (CONTRIBUTING.md, "Runtime texts")');
  });

  it('lists only exceptions that still exist and still lack a reason', () => {
    const stale = WITHOUT_REASON.filter((w) => !found.made.some((m) => m.file === w.file && m.message === w.message && !m.hasReason));
    assert.deepEqual(stale, [], 'remove these from WITHOUT_REASON');
  });

  it('names only reasons the en-US catalog has (those spelled as literals, choices of literals or const tables)', () => {
    const catalog = JSON.parse(fs.readFileSync(path.join(root, 'locales', 'en-US', `${SHARED_CATALOG_TYPE}.json`), 'utf8')) as Record<
      string,
      { errors: Record<string, string> }
    >;
    const errors = catalog[SHARED_SECTION]!.errors;
    const uses = [...found.made, ...found.helperReasons].flatMap((u) => u.reasons.map((reason) => ({ ...u, reason })));
    assert.ok(uses.length > 150, `reasons found: ${uses.length}`);
    const unknown = uses.filter((u) => !(u.reason in errors)).map((u) => `${u.file}:${u.line} ${u.reason}`);
    assert.deepEqual(unknown, []);
  });
});
