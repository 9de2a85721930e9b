// Compares the exports of the old and new transport builds: same names, and each type / value type equal.
import ts from 'typescript';
import { writeFileSync } from 'node:fs';
const root = '/work/wt/h-options';
const oldDir = `${root}/node_modules/.cache/h-options-api/old`;
const newDir = `${root}/packages/transport/dist/esm`;
const entries = ['index', 'internal', 'admin/index', 'health/index'];
const opts = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true };
const files = entries.flatMap(e => [`${oldDir}/${e}.d.ts`, `${newDir}/${e}.d.ts`]);
const program = ts.createProgram(files, opts);
const checker = program.getTypeChecker();
const exportsOf = f => {
  const sf = program.getSourceFile(f);
  const sym = checker.getSymbolAtLocation(sf);
  return new Map(checker.getExportsOfModule(sym).map(s => [s.name, s]));
};
let lines = ['type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;'];
let problems = 0, compared = 0, skipped = [];
for (const [i, e] of entries.entries()) {
  const o = exportsOf(`${oldDir}/${e}.d.ts`), n = exportsOf(`${newDir}/${e}.d.ts`);
  for (const name of o.keys()) if (!n.has(name)) { console.log(`${e}: ${name} no longer exported`); problems++; }
  for (const name of n.keys()) if (!o.has(name)) console.log(`${e}: ${name} newly exported`);
  lines.push(`import type * as O${i} from '${oldDir}/${e}.js';`, `import type * as N${i} from '${newDir}/${e}.js';`);
  for (const [name, s0] of o) {
    if (!n.has(name)) continue;
    const s = s0.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s0) : s0;
    const decl = s.declarations?.[0];
    const generic = decl && decl.typeParameters && decl.typeParameters.length > 0;
    if (s.flags & ts.SymbolFlags.Class) { skipped.push(`${e}:${name} (class: declaration text compared instead)`); continue; }
    if (s.flags & (ts.SymbolFlags.Type) && !(s.flags & ts.SymbolFlags.Value)) {
      if (generic) {
        const args = decl.typeParameters.map(() => 'any').join(', ');
        lines.push(`const t${i}_${name}: Equal<O${i}.${name}<${args}>, N${i}.${name}<${args}>> = true;`);
      } else lines.push(`const t${i}_${name}: Equal<O${i}.${name}, N${i}.${name}> = true;`);
      compared++;
    }
    if (s.flags & ts.SymbolFlags.Value) { lines.push(`const v${i}_${name}: Equal<typeof O${i}.${name}, typeof N${i}.${name}> = true;`); compared++; }
  }
}
const check = `${root}/node_modules/.cache/h-options-api/check.ts`;
writeFileSync(check, lines.join('\n') + '\nexport {};\n');
const p2 = ts.createProgram([check], opts);
const diags = ts.getPreEmitDiagnostics(p2).filter(d => d.file?.fileName === check);
for (const d of diags) { const { line } = d.file.getLineAndCharacterOfPosition(d.start); console.log(`NOT EQUAL: ${lines[line]}`); problems++; }
console.log(`${compared} exported types/values compared, ${skipped.length} classes skipped (${skipped.map(s => s.split(' ')[0]).join(', ')}), ${problems} problems`);
