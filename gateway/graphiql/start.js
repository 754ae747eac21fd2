// Starts GraphiQL (the YogaGraphiQL bundle served beside this file) with the options the
// gateway put in the page as JSON: a file, not an inline script, so the page's CSP allows
// scripts from the gateway only. Monaco's workers are files under the same folder.
const WORKERS = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' };
const here = document.currentScript.src; // only set while this script runs, not in the callback
self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: (_moduleId, label) => new URL(WORKERS[label] ?? WORKERS.editorWorkerService, here).href,
};
const options = JSON.parse(document.getElementById('graphiql-options').textContent);
YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
