// Moved out of templates/resources/tree.html so the Content-Security-Policy can say script-src 'self'.
// Lazy tree: opening a node fetches its children (resources.children) and inserts them below it;
// closing removes every row below it, so reopening always shows the current data.
(function () {
  const table = document.getElementById('resource-table');
  function descendants(tr) {
    const prefix = tr.dataset.path + '/';
    return Array.from(table.querySelectorAll('tbody tr')).filter(r => (r.dataset.path || r.dataset.under || '').startsWith(prefix));
  }
  async function load(url, after, parentPath) {
    const resp = await fetch(url, {headers: {'X-Requested-With': 'fetch'}, credentials: 'same-origin'});
    if (!resp.ok) { alert(gettext('加载失败（%(status)s）', {status: resp.status})); return; }
    const tmp = document.createElement('tbody');
    tmp.innerHTML = await resp.text();
    let anchor = after;
    Array.from(tmp.children).forEach(function (r) {
      if (r.dataset.id) r.dataset.path = parentPath + '/' + r.dataset.id;
      else r.dataset.under = parentPath + '/more';
      anchor.after(r);
      anchor = r;
    });
  }
  table.addEventListener('click', async function (ev) {
    const btn = ev.target.closest('.tree-toggle, .load-more');
    if (!btn) return;
    const tr = btn.closest('tr');
    if (btn.classList.contains('load-more')) {
      const parentPath = tr.dataset.under.replace(/\/more$/, '');
      btn.disabled = true;
      await load(btn.dataset.url, tr, parentPath);
      tr.remove();
      return;
    }
    if (btn.getAttribute('aria-expanded') === 'true') {
      descendants(tr).forEach(r => r.remove());
      btn.setAttribute('aria-expanded', 'false'); btn.textContent = '▸';
      return;
    }
    btn.disabled = true;
    await load(btn.dataset.url, tr, tr.dataset.path);
    btn.disabled = false;
    btn.setAttribute('aria-expanded', 'true'); btn.textContent = '▾';
  });
})();
