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
      pending = form;
      document.getElementById('confirmBody').textContent = form.dataset.confirm;
      modal.show();
    }, true);
    modalEl.addEventListener('shown.bs.modal', () => document.getElementById('confirmOk').focus());
    document.getElementById('confirmOk').addEventListener('click', function () {
      if (!pending) return;
      pending.dataset.confirmed = '1';
      modal.hide();
      const form = pending; pending = null;
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  }
  // Buttons that submit a form show a spinner while the server works (exports, saves).
  document.addEventListener('submit', function (ev) {
    if (ev.defaultPrevented) return;
    const btn = ev.submitter;
    if (btn && btn.dataset.busy !== undefined) {
      btn.dataset.label = btn.innerHTML;
      btn.innerHTML = '<span class="spinner-border spinner-border-sm" role="status"></span> ' + (btn.dataset.busy || '处理中…');
      setTimeout(() => { btn.innerHTML = btn.dataset.label; }, 4000);
    }
  });
  // Controls marked data-autosubmit (the pager's page size) submit their form when changed.
  document.querySelectorAll('[data-autosubmit]').forEach(function (el) {
    el.addEventListener('change', function () { el.form && el.form.submit(); });
  });
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
  // Fields with a length limit (data-counter, maxlength set by the form) show "n/64" under them, live;
  // at the limit the counter turns red and says that further characters (typed or pasted) are not taken.
  document.querySelectorAll('[data-counter]').forEach(function (input) {
    const out = document.getElementById(input.dataset.counter);
    const max = parseInt(input.getAttribute('maxlength'), 10);
    if (!out || !max) return;
    let cut = false;
    const show = function () {
      const n = input.value.length;  // as maxlength counts
      const full = n >= max;
      out.textContent = n + '/' + max + (full ? (cut ? '（已达上限，超出的部分未输入）' : '（已达上限）') : '');
      out.classList.toggle('text-danger', full);
    };
    input.addEventListener('paste', function (ev) {
      const text = (ev.clipboardData || window.clipboardData).getData('text') || '';
      const room = max - input.value.length + (input.selectionEnd - input.selectionStart);
      cut = text.length > room;
      setTimeout(show, 0);
    });
    input.addEventListener('beforeinput', function (ev) {
      if (ev.inputType === 'insertFromPaste') return;
      cut = input.value.length >= max && ev.inputType.startsWith('insert') &&
        input.selectionStart === input.selectionEnd;
      if (cut) setTimeout(show, 0);  // the browser drops the character: no input event follows
    });
    input.addEventListener('input', show);
    show();
  });
  // "Select all" checkbox for list tables.
  document.querySelectorAll('[data-check-all]').forEach(function (box) {
    box.addEventListener('change', function () {
      document.querySelectorAll(box.dataset.checkAll).forEach(cb => { cb.checked = box.checked; });
    });
  });
})();
