// The grammar on the shipped rule files (../../rules/*.kensa): every line tokenizes, every
// `rule ID` names its rule, and no keyword of the language is left as a plain name. Run by `npm test` after the syntax tests.
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm')).buffer;
const onigLib = oniguruma.loadWASM(wasm).then(() => ({
  createOnigScanner: (p) => new oniguruma.OnigScanner(p),
  createOnigString: (s) => new oniguruma.OnigString(s),
}));
const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async (scope) =>
    scope === 'source.kensa'
      ? vsctm.parseRawGrammar(fs.readFileSync(path.join(__dirname, '../syntaxes/kensa.tmLanguage.json'), 'utf8'), 'kensa.json')
      : null,
});

const KEYWORDS = new Set(['rule', 'schema', 'let', 'set', 'map', 'when', 'require', 'fields', 'decide', 'match',
  'block', 'compare', 'using', 'reject', 'review', 'warn', 'accept', 'and', 'or', 'not', 'candidate',
  'extend', 'disable', 'override', 'builtin']);

(async () => {
  const grammar = await registry.loadGrammar('source.kensa');
  // The shipped rules, and the example overlay (extend, disable, override).
  const dirs = ['../../../rules', '../../../examples/overlay-foreign-residents'].map((d) => path.join(__dirname, d));
  const files = dirs.flatMap((dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.kensa')).map((f) => path.join(dir, f)));
  if (files.length === 0) throw new Error('no shipped rule files found in ' + dirs.join(', '));
  let problems = 0, rules = 0;
  for (const f of files) {
    let stack = vsctm.INITIAL;
    const lines = fs.readFileSync(f, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const r = grammar.tokenizeLine(line, stack);
      stack = r.ruleStack;
      for (const t of r.tokens) {
        const text = line.slice(t.startIndex, t.endIndex);
        const scopes = t.scopes.join(' ');
        const where = `${path.basename(f)}:${i + 1}: \`${text}\` (${scopes})`;
        if (KEYWORDS.has(text) && !/comment|string|keyword|property|entity|variable\.other\.definition/.test(scopes)) {
          console.error('keyword not highlighted: ' + where); problems++;
        }
        if (/entity\.name\.function\.rule/.test(scopes)) rules++;
      }
    });
  }
  if (rules === 0) { console.error('no rule id was scoped as a rule name'); problems++; }
  if (problems > 0) { console.error(`${problems} problem(s)`); process.exit(1); }
  console.log(`shipped rules: ${files.length} files, ${rules} rule ids highlighted, no keyword left plain`);
})().catch((e) => { console.error(e); process.exit(1); });
