/**
 * icwatch/client as JavaScript and .d.ts in dist/ (dist/client, and dist/util for what it shares), what package.json
 * `exports` names (README, "icwatch/client"). tsc with the library's own tsconfig (src/client/tsconfig.json: ES and
 * DOM only, no Node types), so nothing Node-only slips into a library that also runs in browsers.
 */
import { join, relative } from 'node:path';
import ts from 'typescript';

export const CLIENT_TSCONFIG = 'src/client/tsconfig.json';

/** Type-checks and emits the library; returns the files it read (relative to root). Throws on an error. */
export function buildClientLibrary(root: string): string[] {
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  };
  const config = ts.getParsedCommandLineOfConfigFile(join(root, CLIENT_TSCONFIG), {}, host);
  if (!config) throw new Error(`${CLIENT_TSCONFIG} is unreadable`);
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, projectReferences: config.projectReferences });
  const emitted = program.emit();
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.length > 0) {
    const formatHost = { getCanonicalFileName: (name: string) => name, getCurrentDirectory: () => root, getNewLine: () => '\n' };
    throw new Error(`icwatch/client does not compile:\n${ts.formatDiagnostics(diagnostics, formatHost)}`);
  }
  return program.getSourceFiles().map((file) => relative(root, file.fileName).split('\\').join('/'));
}
