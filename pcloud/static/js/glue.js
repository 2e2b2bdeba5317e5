// The script editor of a GLUE job: CodeMirror 5 (static/vendor/codemirror) on the source textarea, with line
// numbers and the job's language; the textarea still carries the value that is posted.
(function () {
  const area = document.querySelector('[data-glue-mode]');
  if (!area || typeof CodeMirror === 'undefined') return;
  const editor = CodeMirror.fromTextArea(area, {
    mode: area.dataset.glueMode, lineNumbers: true, indentUnit: 4, tabSize: 4, indentWithTabs: false,
    styleActiveLine: true, lineWrapping: false, viewportMargin: Infinity,
  });
  editor.setSize(null, '28rem');
  area.form.addEventListener('submit', function () { editor.save(); });
})();
