// Moved out of templates/roles/grant.html so the Content-Security-Policy can say script-src 'self'.
// Grant trees: a branch checkbox selects its whole branch; a branch shows checked / partly checked
// (indeterminate) from what lies below it; the search box keeps matching nodes and their ancestors.
// A page's buttons (bizType-1 resources, .grant-button) sit beside it in the menu card, outside its branch:
// they are resources, so the resource card's count includes them. What the caller may not hand out is disabled
// (roles/grant.html, "超出您的权限"): a branch or "全选" leaves it as it is.
(function () {
  const boxesBelow = li => Array.from(li.querySelectorAll(':scope > div > ul .tree-check'));
  const parentLi = li => li.parentElement.closest('li.tree-node');

  function refreshBranch(li) {
    const own = li.querySelector(':scope > .form-check .tree-check');
    const below = boxesBelow(li);
    if (!below.length) return;
    const on = below.filter(b => b.checked).length;
    own.checked = on === below.length;
    own.indeterminate = on > 0 && on < below.length;
  }
  function refreshAncestors(li) {
    for (let p = parentLi(li); p; p = parentLi(p)) refreshBranch(p);
  }
  function count(card) {
    let n = card.querySelectorAll('.tree-check:checked').length;
    if (card.dataset.tree === 'resource') n += document.querySelectorAll('.grant-button:checked').length;
    card.querySelector('[data-count]').textContent = n;
  }
  const countAll = () => document.querySelectorAll('[data-tree]').forEach(count);

  document.querySelectorAll('[data-tree]').forEach(function (card) {
    // Initial branch states, deepest first.
    Array.from(card.querySelectorAll('li.tree-node')).reverse().forEach(refreshBranch);
    count(card);
    card.addEventListener('change', function (ev) {
      const box = ev.target;
      if (box.classList.contains('grant-button')) { countAll(); return; }
      if (!box.classList.contains('tree-check')) return;
      const li = box.closest('li.tree-node');
      boxesBelow(li).filter(b => !b.disabled).forEach(b => { b.checked = box.checked; b.indeterminate = false; });
      box.indeterminate = false;
      refreshAncestors(li);
      count(card);
    });
    card.querySelectorAll('[data-select]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        const on = btn.dataset.select === 'all';
        card.querySelectorAll('li.tree-node').forEach(function (li) {
          if (li.classList.contains('d-none')) return;  // only what the search shows
          const b = li.querySelector(':scope > .form-check .tree-check');
          if (!b.disabled) { b.checked = on; b.indeterminate = false; }
          li.querySelectorAll(':scope > .grant-buttons .grant-button').forEach(g => { if (!g.disabled) g.checked = on; });
        });
        Array.from(card.querySelectorAll('li.tree-node')).reverse().forEach(refreshBranch);
        countAll();
      });
    });
    const search = card.querySelector('.tree-search');
    search.addEventListener('input', function () {
      const q = search.value.trim().toLowerCase();
      let shown = 0;
      Array.from(card.querySelectorAll('li.tree-node')).reverse().forEach(function (li) {
        const self = (li.dataset.name || '').toLowerCase().includes(q);
        const child = li.querySelector(':scope > div > ul > li.tree-node:not(.d-none)');
        const visible = !q || self || !!child;
        li.classList.toggle('d-none', !visible);
        if (visible) shown++;
      });
      card.querySelector('[data-no-match]').classList.toggle('d-none', shown > 0);
    });
  });
  // A menu whose children are partly granted is granted too: the grant service adds it (access.service),
  // for this page and the API alike.
})();
