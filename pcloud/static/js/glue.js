// The script editor of a GLUE job: CodeMirror 5 (static/vendor/codemirror) on the source textarea, with line
// numbers and the job's language; the textarea still carries the value that is posted.
(function () {
  const area = document.querySelector('[data-glue-mode]');
  if (!area || typeof CodeMirror === 'undefined') return;
  // Tab indents, as in any code editor; Esc then Tab (or Shift+Tab) leaves the editor, so the keyboard is never
  // caught in it (the hint under the editor, #glue-keys, says so)
  const leaving = {Tab: false, 'Shift-Tab': false};
  const indenting = {Esc: function (cm) { cm.setOption('extraKeys', leaving); }};
  const label = area.labels && area.labels.length ? area.labels[0].textContent.trim() : '';
  const editor = CodeMirror.fromTextArea(area, {
    mode: area.dataset.glueMode, lineNumbers: true, indentUnit: 4, tabSize: 4, indentWithTabs: false,
    styleActiveLine: true, lineWrapping: false, viewportMargin: Infinity,
    screenReaderLabel: label || null, extraKeys: indenting,
  });
  const keys = document.getElementById('glue-keys');
  if (keys) editor.getInputField().setAttribute('aria-describedby', keys.id);
  editor.on('keydown', function (cm, event) {
    if (!['Escape', 'Tab', 'Shift'].includes(event.key)) cm.setOption('extraKeys', indenting);
  });
  editor.on('blur', function (cm) { cm.setOption('extraKeys', indenting); });
  editor.setSize(null, '28rem');
  area.form.addEventListener('submit', function () { editor.save(); });
})();
