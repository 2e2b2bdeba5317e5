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
  // "Select all" checkbox for list tables.
  document.querySelectorAll('[data-check-all]').forEach(function (box) {
    box.addEventListener('change', function () {
      document.querySelectorAll(box.dataset.checkAll).forEach(cb => { cb.checked = box.checked; });
    });
  });
})();
