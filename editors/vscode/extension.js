// The kensa extension: highlighting comes from the grammar; everything else (diagnostics as you
// type, hover, completion, go to definition, symbols, formatting, quick fixes) from the
// language server that the kensa binary runs: `kensa lsp` over stdio.
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('kensa').get('path') || 'kensa';
  const server = { command, args: ['lsp'] };
  client = new LanguageClient(
    'kensa',
    'kensa rules',
    { run: server, debug: server },
    { documentSelector: [{ scheme: 'file', language: 'kensa' }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
