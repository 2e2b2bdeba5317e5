// The scripts' strings in the page's language: gettext('源文') looks the source string up in the English that
// base.html hands over (#js-texts, the `js` catalogue, on an English page only), and fills %(name)s from `values`.
window.gettext = (function () {
  const el = document.getElementById('js-texts');
  const texts = el ? JSON.parse(el.textContent) : {};
  return function (source, values) {
    let text = texts[source] || source;
    if (values) text = text.replace(/%\((\w+)\)s/g, function (all, name) { return name in values ? values[name] : all; });
    return text;
  };
})();

// A form sent after the sign-in ended (expired, forced offline, signed out in another tab) is not saved: the guard
// sends the browser to the sign-in page, and `next` back to the form's page. What was typed is kept here, in this
// tab's sessionStorage, from the moment the form is sent: the page that answers the POST throws it away (saved, or
// shown again by the server with what was typed), except the sign-in page, where it waits. Back on the same page
// after signing in as the same user (body's data-principal), the form is filled again, once, with a notice; never
// sent by itself. Anyone else signing in, or any other page, throws it away. Passwords, files, the security token
// and the one-time token (_once) are never kept; a disabled field (beyond the user's reach) is left as shown. It
// runs before the scripts that build on the fields (tree-select, pickers, grant trees, the code editor), which
// then start from the restored values.
(function () {
  const KEY = 'pcloud.keptForm';
  const principal = document.body.dataset.principal || '';
  const here = location.pathname + location.search;
  const store = window.sessionStorage;
  const never = /^(password|file|submit|button|reset|image)$/;
  const keyOf = el => el.name || (el.hasAttribute('data-keep') && el.id ? '#' + el.id : '');
  const keepable = el => /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) && !never.test(el.type) && !!keyOf(el) &&
    !/(^|-)csrf_token$/.test(el.name) && el.name !== '_once' && el.autocomplete !== 'one-time-code';
  // read from the attributes: a field named `id` or `action` would stand in for the form's own properties
  const posts = form => (form.getAttribute('method') || '').toLowerCase() === 'post';
  const where = form => ({id: form.getAttribute('id') || '',
                          action: new URL(form.getAttribute('action') || '', location.href).pathname});
  const sameForm = (form, at) => posts(form) && where(form).id === at.id && where(form).action === at.action;
  function read() {
    try { return JSON.parse(store.getItem(KEY) || 'null'); } catch (e) { return null; }
  }
  function forget() { try { store.removeItem(KEY); } catch (e) { /* storage refused: nothing kept */ } }

  document.addEventListener('submit', function (ev) {
    const form = ev.target;
    if (ev.defaultPrevented || !principal || !(form instanceof HTMLFormElement) || !posts(form)) return;
    const elements = Array.from(form.elements);
    // only a form with a field of its own the user fills in: not a button's action, nor an export of ticked rows
    if (!elements.some(el => form.contains(el) && keepable(el) && el.type !== 'hidden')) return;
    const names = [], values = [];
    elements.forEach(function (el) {
      if (!keepable(el) || el.disabled) return;
      const key = keyOf(el);
      if (!names.includes(key)) names.push(key);
      if (el.type === 'checkbox' || el.type === 'radio') { if (el.checked) values.push([key, el.value]); }
      else if (el.tagName === 'SELECT') Array.from(el.selectedOptions).forEach(o => values.push([key, o.value]));
      else values.push([key, el.value]);
    });
    const left = elements.some(el => (el.type === 'password' && el.value) ||
                                     (el.type === 'file' && el.files && el.files.length));
    const at = where(form);
    at.nth = Array.from(document.forms).filter(f => sameForm(f, at)).indexOf(form);
    // a dialog's form shown again under its POST's address is given back on the list that address leads to
    const page = form.getAttribute('data-kept-on') || here;
    try {
      store.setItem(KEY, JSON.stringify({principal: principal, page: page, sent: here, form: at, names: names,
                                         values: values, left: left}));
    } catch (e) { forget(); }  // storage full or refused: the form is sent as it always was
  });

  const kept = read();
  if (kept && !principal) {
    kept.waiting = true;  // the sign-in page (or any signed-out page) the refused form led to
    try { store.setItem(KEY, JSON.stringify(kept)); } catch (e) { /* nothing to keep then */ }
    // the sign-in page leading back to that form says so, rather than leave the user thinking it lost
    const next = document.querySelector('form input[name$="next"]');
    if (next && (next.value === kept.page || next.value === kept.sent)) {
      notice(gettext('您刚才填写的内容已暂存在本标签页：重新登录后将回到该页面并恢复。'), 'kept-input-waiting');
    }
  } else if (kept) {
    forget();
    const mine = kept.waiting && kept.principal === principal && kept.page === here;
    const form = mine && Array.from(document.forms).filter(f => sameForm(f, kept.form))[kept.form.nth || 0];
    // A dialog's form whose address its opener sets (a row's 执行一次: data-opens-form, data-form-action) matches no
    // form as served: the opener of the address it was sent to opens it again, as a click would once the page's
    // scripts have set the dialog up, and what was typed then replaces what the opener put in.
    const opener = mine && !form && Array.from(document.querySelectorAll('[data-opens-form][data-form-action]'))
      .find(el => el.dataset.opensForm === kept.form.id &&
                  new URL(el.dataset.formAction, location.href).pathname === kept.form.action);
    const target = opener && document.getElementById(kept.form.id);
    try { if (form) restore(form, kept); } catch (e) { /* a stored value of another shape: the page as served */ }
    if (target instanceof HTMLFormElement) {
      document.addEventListener('DOMContentLoaded', function () {
        opener.click();
        try { restore(target, kept, true); } catch (e) { /* as above: the dialog as its opener fills it */ }
      });
    }
  }

  // `opened`: the dialog is already open (by its opener), else a dialog's form is opened once the page is set up
  function restore(form, kept, opened) {
    const values = new Map(kept.names.map(name => [name, []]));
    kept.values.forEach(function (pair) { if (values.has(pair[0])) values.get(pair[0]).push(pair[1]); });
    const used = new Map();
    let filled = 0;
    Array.from(form.elements).forEach(function (el) {
      const key = keyOf(el);
      if (!keepable(el) || el.disabled || !values.has(key)) return;
      const typed = values.get(key);
      if (el.type === 'checkbox' || el.type === 'radio') el.checked = typed.includes(el.value);
      else if (el.tagName === 'SELECT') {
        const options = Array.from(el.options);
        if (el.multiple) options.forEach(o => { if (!o.disabled) o.selected = typed.includes(o.value); });
        else if (options.some(o => o.value === typed[0] && !o.disabled)) el.value = typed[0];
      } else {
        const n = used.get(key) || 0;
        used.set(key, n + 1);
        if (n < typed.length) el.value = typed[n];
      }
      if (el.type !== 'hidden') filled++;
    });
    if (!filled) return;  // nothing of it on this page to fill (the form changed since): nothing to say
    form.dataset.kept = '1';
    const dialog = form.closest('.modal');
    notice(gettext('登录已失效，未能提交：您填写的内容保留在下方，请核对后再次提交。') +
           (kept.left ? ' ' + gettext('为安全起见，已输入的密码和所选文件没有保留：请重新填写。') : ''),
           'kept-input-note', dialog && form.querySelector('.modal-body'));
    if (dialog && !opened) {  // opened once the page's own scripts have set the dialog up
      document.addEventListener('DOMContentLoaded', () => bootstrap.Modal.getOrCreateInstance(dialog).show());
    }
  }

  // A yellow notice where the server's flashes are (after them), or at the top of a dialog's body; it stays until closed.
  function notice(text, testid, inside) {
    const note = document.createElement('div');
    note.className = 'alert alert-warning alert-dismissible fade show';
    note.setAttribute('role', 'alert');
    note.dataset.testid = testid;
    note.textContent = text;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'btn-close';
    close.dataset.bsDismiss = 'alert';
    close.setAttribute('aria-label', gettext('关闭'));
    note.append(close);
    const main = document.querySelector('main');
    const above = main && Array.from(main.children).filter(el => el.matches('.alert, nav[aria-label="breadcrumb"]')).pop();
    if (inside) inside.prepend(note);
    else if (above) above.after(note);
    else if (main) main.prepend(note);
  }
})();

// Confirm-before-submit for forms marked data-confirm, with a Bootstrap modal (keyboard friendly).
(function () {
  const modalEl = document.getElementById('confirmModal');
  if (modalEl) {
    const modal = new bootstrap.Modal(modalEl);
    let pending = null;
    document.addEventListener('submit', function (ev) {
      const form = ev.target;
      if (!form.dataset || !form.dataset.confirm || form.dataset.confirmed === '1') return;
      ev.preventDefault();
      // A refusal known in advance (data-refusal): the dialog says why and offers no confirm. So does a form
      // that acts on the ticked rows (data-none-checked, what to say) when none is ticked.
      const none = form.dataset.noneChecked;
      const nothing = !!none && !Array.prototype.some.call(form.elements, e => e.type === 'checkbox' && e.checked);
      const refused = form.dataset.refusal === '1' || nothing;
      const button = form.querySelector('button[type="submit"]');
      const ok = document.getElementById('confirmOk');
      ok.hidden = refused;
      // red only for what destroys: a start or a copy confirms in the primary colour
      ok.className = 'btn ' + (button && /danger/.test(button.className) ? 'btn-danger' : 'btn-primary');
      document.getElementById('confirmOk-cancel').textContent = refused ? gettext('知道了') : gettext('取消');
      pending = refused ? null : form;
      document.getElementById('confirmBody').textContent = nothing ? none : form.dataset.confirm;
      modal.show();
    }, true);
    modalEl.addEventListener('shown.bs.modal', function () {
      const ok = document.getElementById('confirmOk');
      (ok.hidden ? document.getElementById('confirmOk-cancel') : ok).focus();
    });
    document.getElementById('confirmOk').addEventListener('click', function () {
      if (!pending) return;
      pending.dataset.confirmed = '1';
      modal.hide();
      const form = pending; pending = null;
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  }
  // Opened by script (a confirm, 执行一次), Bootstrap's dialog leaves the focus on nothing when it closes (Esc, 取消,
  // ×): a keyboard user would start again from the top of the page. Every dialog gives it back to what had it when
  // the dialog opened, the button that opened it. A confirm confirmed: the page is leaving, nothing to give back.
  let opener = null;
  document.addEventListener('show.bs.modal', function (ev) {
    const had = document.activeElement;
    opener = had && had !== document.body && !ev.target.contains(had) ? had : null;
  });
  document.addEventListener('hidden.bs.modal', function () {
    const back = opener;
    opener = null;
    if (!back || !document.contains(back) || (back.form && back.form.dataset.confirmed === '1')) return;
    if (!document.activeElement || document.activeElement === document.body) back.focus();
  });
  // Buttons that submit a form show a spinner while the server works (exports, saves).
  document.addEventListener('submit', function (ev) {
    if (ev.defaultPrevented) return;
    const btn = ev.submitter;
    if (btn && btn.dataset.busy !== undefined) {
      btn.dataset.label = btn.innerHTML;
      btn.innerHTML = '<span class="spinner-border spinner-border-sm" role="status"></span> ' + (btn.dataset.busy || gettext('处理中…'));
      setTimeout(() => { btn.innerHTML = btn.dataset.label; }, 4000);
    }
  });
  // Controls marked data-autosubmit (the pager's page size) submit their form when changed.
  document.querySelectorAll('[data-autosubmit]').forEach(function (el) {
    el.addEventListener('change', function () { el.form && el.form.submit(); });
  });
  // A select that submits its form when changed (data-autosubmit, data-submit-on-change: the run log's executor)
  // does so when chosen with the mouse. From the keyboard an arrow key changes a closed select's value at once:
  // each key reloaded the page, the focus back at its top, and the next choice but one was out of reach. A change
  // made by a key waits for Enter (or the form's own button).
  const submitting = 'select[data-autosubmit], select[data-submit-on-change]';
  let keyed = null;
  document.addEventListener('pointerdown', function () { keyed = null; }, true);
  document.addEventListener('keydown', function (ev) {
    const el = ev.target;
    if (!el.matches || !el.matches(submitting) || ev.key === 'Tab' || ev.key === 'Shift') return;
    if (ev.key === 'Enter') {
      if (keyed === el && el.dataset.held === '1') {
        ev.preventDefault();
        keyed = null;
        delete el.dataset.held;
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }
      return;
    }
    keyed = el;
  }, true);
  document.addEventListener('change', function (ev) {
    if (keyed && ev.target === keyed) {
      ev.stopImmediatePropagation();
      keyed.dataset.held = '1';
    }
  }, true);
  // Sidebar groups remember being folded (per browser), and the current page's group stays open.
  document.querySelectorAll('.sidebar .collapse[id^="menu-group-"]').forEach(function (group) {
    const key = 'pcloud.folded.' + group.id;
    const holdsCurrent = group.querySelector('[aria-current="page"]');
    if (!holdsCurrent && localStorage.getItem(key) === '1') {
      group.classList.remove('show');
      const btn = document.querySelector('[data-bs-target="#' + group.id + '"]');
      if (btn) btn.setAttribute('aria-expanded', 'false');
    }
    group.addEventListener('hidden.bs.collapse', function (ev) { if (ev.target === group) localStorage.setItem(key, '1'); });
    group.addEventListener('shown.bs.collapse', function (ev) { if (ev.target === group) localStorage.removeItem(key); });
  });
  // Fields with a length limit (data-counter, data-max set by macros.field) show "n/64" under them, live,
  // counting characters as the server does (code points: an emoji is one, not two UTF-16 units). There is
  // no maxlength (it counts UTF-16 units): past the limit the counter turns red and says by how much.
  document.querySelectorAll('[data-counter]').forEach(function (input) {
    const out = document.getElementById(input.dataset.counter);
    const spoken = document.getElementById(input.dataset.counter + '-spoken');
    const max = parseInt(input.dataset.max, 10);
    if (!out || !max) return;
    let said = '';  // the state last said to a screen reader: '', 'max' or 'over'
    const show = function () {
      const n = Array.from(input.value).length;
      out.textContent = n + '/' + max + (n > max ? gettext('（超出 %(n)s 个字符，请删减）', {n: n - max}) : (n === max ? gettext('（已达上限）') : ''));
      out.classList.toggle('text-danger', n > max);
      const state = n > max ? 'over' : (n === max ? 'max' : '');
      if (spoken && state !== said) spoken.textContent = state ? out.textContent : '';
      said = state;
    };
    input.addEventListener('input', show);
    show();
  });
  // Row actions stay in sight (issue 24.1): in a table that scrolls sideways inside its card, the last
  // column, when its rows hold buttons or links (编辑, 删除, 更多, 详情...) or its header is marked `col-actions`
  // (never by its text, which is in the page's language), sticks to the card's right edge.
  document.querySelectorAll('.table-responsive > table').forEach(function (table) {
    const rows = Array.from(table.rows);
    const head = table.tHead && table.tHead.rows[0];
    const lastHead = head && head.cells.length ? head.cells[head.cells.length - 1] : null;
    const holdsActions = (lastHead && lastHead.classList.contains('col-actions')) || rows.some(function (row) {
      const cell = row.cells[row.cells.length - 1];
      return cell && cell.tagName === 'TD' && cell.querySelector('.btn, button, a[href]');
    });
    if (!holdsActions) return;
    rows.forEach(function (row) {
      const cell = row.cells[row.cells.length - 1];
      if (cell && cell.colSpan === 1) cell.classList.add('col-actions');
    });
  });
  // The top bar's avatar: an address that brings no image (a file removed, a host that does not answer, an address
  // the Content-Security-Policy refuses) shows the person icon beside it instead of a broken image.
  document.querySelectorAll('img[data-avatar-fallback]').forEach(function (img) {
    const fallback = function () {
      img.hidden = true;
      if (img.nextElementSibling) img.nextElementSibling.hidden = false;
    };
    if (img.complete && img.naturalWidth === 0) fallback();
    else img.addEventListener('error', fallback);
  });
  // "Select all" checkbox for list tables.
  document.querySelectorAll('[data-check-all]').forEach(function (box) {
    box.addEventListener('change', function () {
      document.querySelectorAll(box.dataset.checkAll).forEach(cb => { cb.checked = box.checked; });
    });
  });
  // A progress bar the server filled (aria-valuenow) is drawn here: the Content-Security-Policy refuses style
  // attributes in the page, so injected markup cannot restyle it; a script's styles are allowed.
  document.querySelectorAll('.progress[aria-valuenow] > .progress-bar').forEach(function (bar) {
    bar.style.width = Math.max(0, Math.min(100, Number(bar.parentElement.getAttribute('aria-valuenow')) || 0)) + '%';
  });
})();

// Tree-select: a <select data-tree-select> whose options are a tree indented with full-width spaces
// (depth = number of leading "　") becomes a button opening a foldable, searchable tree. The select
// stays in the form (hidden) and keeps the value, so the server sees exactly what it saw before.
// The tree is WAI-ARIA's tree view, so that a keyboard does what a mouse does and a screen reader hears where it is:
// each name a treeitem (its level, its place among the siblings shown, a branch open or folded, the picked one
// selected), the tree one Tab stop (the name picked, else the first shown); up and down move between the names shown,
// right opens a folded branch or goes to an open one's first child, left folds an open branch or goes to the parent,
// Home and End go to the first and last name shown, Enter or Space picks. A typed filter shows the matches at any
// depth, folded or not: the branches then say neither open nor folded, and right and left fold nothing.
(function () {
  const INDENT = '\u3000';
  document.querySelectorAll('select[data-tree-select]').forEach(function (select, n) {
    const nodes = Array.from(select.options).map(function (opt) {
      let depth = 0;
      while (opt.text.charAt(depth) === INDENT) depth++;
      return { value: opt.value, label: opt.text.slice(depth), depth: depth };
    });
    const ancestors = [];
    nodes.forEach(function (node, i) {
      const next = nodes[i + 1];
      node.hasChildren = !!next && next.depth > node.depth;
      while (ancestors.length && nodes[ancestors[ancestors.length - 1]].depth >= node.depth) ancestors.pop();
      node.parent = ancestors.length ? ancestors[ancestors.length - 1] : -1;
      ancestors.push(i);
    });
    const wrap = document.createElement('div');
    wrap.className = 'tree-select dropdown';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'form-select text-start tree-select-toggle' + (select.classList.contains('is-invalid') ? ' is-invalid' : '');
    button.setAttribute('aria-haspopup', 'true');
    button.setAttribute('aria-expanded', 'false');
    button.id = (select.id || 'tree-select-' + n) + '-picker';
    // its error and hint (macros.field's aria-describedby, aria-invalid) are the button's, the select being hidden
    ['aria-describedby', 'aria-invalid'].forEach(function (name) {
      if (select.hasAttribute(name)) button.setAttribute(name, select.getAttribute(name));
    });
    const label = document.querySelector('label[for="' + select.id + '"]');
    if (label) { label.setAttribute('for', button.id); }
    const panel = document.createElement('div');
    panel.className = 'tree-select-panel border rounded bg-body shadow-sm p-2';
    panel.hidden = true;
    const search = document.createElement('input');
    search.type = 'search';
    search.className = 'form-control form-control-sm mb-2';
    search.placeholder = gettext('输入名称筛选');
    search.setAttribute('aria-label', gettext('筛选：%(field)s', {field: label ? label.textContent : ''}));
    const list = document.createElement('ul');
    list.className = 'list-unstyled mb-0 tree-select-list';
    list.setAttribute('role', 'tree');
    if (label) list.setAttribute('aria-label', label.textContent.trim());
    panel.append(search, list);
    // visually hidden, not display:none: the select still takes part in the form and in scripts/tests
    select.classList.add('visually-hidden');
    select.tabIndex = -1;
    select.setAttribute('aria-hidden', 'true');
    select.after(wrap);
    wrap.append(button, panel);

    const folded = new Set();
    let current = -1;  // the name holding the tree's one Tab stop
    const items = nodes.map(function (node, i) {
      const li = document.createElement('li');
      li.setAttribute('role', 'treeitem');
      li.setAttribute('aria-level', String(node.depth + 1));
      li.tabIndex = -1;
      li.style.paddingLeft = (node.depth * 1.1) + 'rem';
      // the mouse's fold button; the keys fold with left and right, and a screen reader hears the item's aria-expanded
      const caret = document.createElement('span');
      caret.className = 'btn btn-sm btn-link p-0 me-1 tree-caret';
      caret.setAttribute('aria-hidden', 'true');
      if (node.hasChildren) caret.title = gettext('折叠/展开');
      const pick = document.createElement('span');
      pick.className = 'btn btn-sm btn-light text-start flex-grow-1 text-truncate tree-pick';
      pick.textContent = node.label;
      pick.title = node.label;
      pick.dataset.value = node.value;
      li.append(caret, pick);
      list.append(li);
      caret.addEventListener('click', function (ev) {
        ev.stopPropagation();
        if (!node.hasChildren) return;
        if (folded.has(i)) folded.delete(i); else folded.add(i);
        render();
      });
      li.addEventListener('click', function () { choose(i); });
      return li;
    });

    function shown() {
      return items.reduce(function (acc, li, i) { if (!li.hidden) acc.push(i); return acc; }, []);
    }
    function filtering() { return search.value.trim() !== ''; }
    function render() {
      const q = search.value.trim().toLowerCase();
      let hideBelow = null;
      nodes.forEach(function (node, i) {
        if (hideBelow !== null && node.depth <= hideBelow) hideBelow = null;
        const matches = !q || node.label.toLowerCase().includes(q);
        const li = items[i];
        li.hidden = q ? !matches : hideBelow !== null;
        if (!q && hideBelow === null && folded.has(i)) hideBelow = node.depth;
        const picked = node.value === select.value;
        li.querySelector('.tree-pick').classList.toggle('active', picked);
        if (picked) li.setAttribute('aria-selected', 'true'); else li.removeAttribute('aria-selected');
        if (node.hasChildren && !q) li.setAttribute('aria-expanded', folded.has(i) ? 'false' : 'true');
        else li.removeAttribute('aria-expanded');
        li.querySelector('.tree-caret').textContent = node.hasChildren ? (folded.has(i) ? '▸' : '▾') : '';
      });
      // the list is flat, so the browser cannot count a name's siblings: each is told its place among those shown
      const siblings = new Map();
      shown().forEach(function (i) {
        const parent = nodes[i].parent;
        if (!siblings.has(parent)) siblings.set(parent, []);
        siblings.get(parent).push(i);
      });
      siblings.forEach(function (group) {
        group.forEach(function (i, k) {
          items[i].setAttribute('aria-posinset', String(k + 1));
          items[i].setAttribute('aria-setsize', String(group.length));
        });
      });
      if (current < 0 || items[current].hidden) {
        const picked = nodes.findIndex(function (node) { return node.value === select.value; });
        current = picked >= 0 && !items[picked].hidden ? picked : (shown().length ? shown()[0] : -1);
      }
      rove();
    }
    function rove() {
      items.forEach(function (li, i) { li.tabIndex = i === current ? 0 : -1; });
    }
    function sync() {
      const picked = nodes.find(function (node) { return node.value === select.value; });
      button.textContent = picked ? picked.label : gettext('请选择');
    }
    function choose(i) {
      select.value = nodes[i].value;
      select.dispatchEvent(new Event('change', { bubbles: true }));
      close();
      button.focus();
    }
    function open() {
      panel.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      current = -1;
      render();
      search.focus();
    }
    function close() {
      panel.hidden = true;
      button.setAttribute('aria-expanded', 'false');
    }
    button.addEventListener('click', function () { if (panel.hidden) open(); else close(); });
    search.addEventListener('input', render);
    select.addEventListener('change', sync);
    list.addEventListener('focusin', function (ev) {
      const i = items.indexOf(ev.target);
      if (i >= 0) { current = i; rove(); }
    });
    wrap.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { close(); button.focus(); } });
    // Tabbing on past the tree closes it, as a click elsewhere does, rather than leaving it over the next fields.
    wrap.addEventListener('focusout', function (ev) {
      if (!panel.hidden && ev.relatedTarget && !wrap.contains(ev.relatedTarget)) close();
    });
    panel.addEventListener('keydown', function (ev) {
      if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
      const visible = shown();
      if (ev.target === search) {  // down from the filter box to the first name; its other keys edit the filter
        if (ev.key !== 'ArrowDown') return;
        ev.preventDefault();
        if (visible.length) items[visible[0]].focus();
        return;
      }
      const at = items.indexOf(ev.target);
      if (at < 0) return;
      const node = nodes[at];
      const place = visible.indexOf(at);
      let to = null;
      if (ev.key === 'ArrowDown') to = visible[Math.min(place + 1, visible.length - 1)];
      else if (ev.key === 'ArrowUp') { if (place === 0) search.focus(); else to = visible[place - 1]; }
      else if (ev.key === 'Home') to = visible[0];
      else if (ev.key === 'End') to = visible[visible.length - 1];
      else if (ev.key === 'ArrowRight') {
        if (node.hasChildren && !filtering()) {
          if (folded.has(at)) { folded.delete(at); render(); } else to = at + 1;
        }
      } else if (ev.key === 'ArrowLeft') {
        if (node.hasChildren && !filtering() && !folded.has(at)) { folded.add(at); render(); }
        else if (node.parent >= 0 && !items[node.parent].hidden) to = node.parent;
      } else if (ev.key === 'Enter' || ev.key === ' ') choose(at);
      else return;
      ev.preventDefault();
      if (to !== null && to !== undefined) items[to].focus();
    });
    document.addEventListener('click', function (ev) { if (!wrap.contains(ev.target)) close(); });
    sync();
  });
})();

// A form shown again with its errors (a refused save): the first field refused takes the focus, so that a keyboard
// or screen-reader user starts there, hearing its name and its error (macros.field's aria-describedby), rather than
// at the top of the page. A dialog's form reopened focuses its own (jobs.js).
(function () {
  const refused = Array.prototype.find.call(document.querySelectorAll('main form [aria-invalid="true"]'), function (el) {
    return !el.closest('.modal') && el.getAttribute('aria-hidden') !== 'true';
  });
  if (!refused) return;
  const target = refused.matches('input, select, textarea, button') ? refused : refused.querySelector('input, select, textarea, button');
  if (target) target.focus();
})();
