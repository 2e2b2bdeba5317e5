// Moved out of templates/depts/list.html so the Content-Security-Policy can say script-src 'self'.
// Fold a department: hide every row that has it among its ancestors.
document.querySelectorAll('[data-toggle-dept]').forEach(function (btn) {
  btn.addEventListener('click', function () {
    const id = btn.dataset.toggleDept;
    const open = btn.getAttribute('aria-expanded') === 'true';
    btn.setAttribute('aria-expanded', open ? 'false' : 'true');
    document.querySelectorAll('#dept-table tbody tr[data-ancestors]').forEach(function (tr) {
      const up = tr.dataset.ancestors.split(' ');
      if (!up.includes(id)) return;
      if (open) { tr.classList.add('folded'); tr.dataset.foldedBy = (tr.dataset.foldedBy || '') + ' ' + id; }
      else {
        const rest = (tr.dataset.foldedBy || '').split(' ').filter(x => x && x !== id);
        tr.dataset.foldedBy = rest.join(' ');
        if (!rest.length) tr.classList.remove('folded');
      }
    });
  });
});
