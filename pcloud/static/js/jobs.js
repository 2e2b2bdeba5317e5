// 定时任务 pages: the cron helper of the job form, the run-once dialog, the log filter and the live log tail.
(function () {
  // Cron helper: next fire times from the server as the user types (debounced).
  const card = document.getElementById('next-times-card');
  if (card) {
    const form = document.getElementById('job-form');
    const type = form.querySelector('[name=schedule_type]');
    const conf = form.querySelector('[name=schedule_conf]');
    const zone = form.querySelector('[name=timezone]');
    const list = document.getElementById('next-times');
    const error = document.getElementById('next-times-error');
    let timer = null;
    let seq = 0;
    const refresh = function () {
      const mine = ++seq;
      list.replaceChildren();
      error.textContent = '';
      if (type.value === 'NONE') { error.textContent = gettext('仅手动执行，没有计划的触发时间'); card.dataset.ready = '1'; return; }
      if (!conf.value.trim()) { card.dataset.ready = '1'; return; }
      const params = new URLSearchParams({scheduleType: type.value, scheduleConf: conf.value, timezone: zone.value});
      card.dataset.ready = '0';
      fetch(card.dataset.url + '?' + params.toString(), {credentials: 'same-origin'})
        .then(r => r.json())
        .then(function (body) {
          if (mine !== seq) return;
          (body.times || []).forEach(function (t) {
            const li = document.createElement('li'); li.textContent = t; list.appendChild(li);
          });
          error.textContent = body.error || '';
          card.dataset.ready = '1';
        })
        .catch(function () { if (mine === seq) { error.textContent = gettext('无法计算触发时间，请稍后再试'); card.dataset.ready = '1'; } });
    };
    const later = function () { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    conf.addEventListener('input', later);
    type.addEventListener('change', refresh);
    zone.addEventListener('change', refresh);
    refresh();
  }

  // Run once: one dialog, filled from the row's button. A refused run comes back with the dialog drawn open
  // (data-reopen) on what was typed and the refusal: it is opened as it is, the field refused focused.
  const modalEl = document.getElementById('triggerModal');
  if (modalEl) {
    const modal = new bootstrap.Modal(modalEl);
    const form = document.getElementById('trigger-form');
    document.querySelectorAll('[data-trigger-job]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        form.action = btn.dataset.formAction;
        document.getElementById('trigger-desc').textContent =
          gettext('任务「%(name)s」（#%(id)s）', {name: btn.dataset.triggerDesc, id: btn.dataset.triggerJob});
        form.querySelector('[name=executor_param]').value = btn.dataset.triggerParam || '';
        form.querySelector('[name=address_list]').value = '';
        // another run: the last refusal is no longer said
        document.getElementById('trigger-refusal').hidden = true;
        form.querySelectorAll('.is-invalid').forEach(el => el.classList.remove('is-invalid'));
        form.querySelectorAll('[aria-invalid]').forEach(el => el.removeAttribute('aria-invalid'));
        form.querySelectorAll('.invalid-feedback').forEach(el => el.remove());
        modal.show();
      });
    });
    modalEl.addEventListener('shown.bs.modal', function () {
      (form.querySelector('.is-invalid') || form.querySelector('[name=executor_param]')).focus();
    });
    if (modalEl.hasAttribute('data-reopen')) {
      // drawn open for a page without its script: shown as a dialog now (its backdrop, Esc, focus), not hidden first
      modalEl.style.display = 'block';
      modalEl.classList.remove('d-block');
      modal.show();
    }
  }

  // 日志清理: a refused clear comes back with the dialog drawn open (data-reopen) on the kind chosen and the refusal,
  // as 执行一次's; once closed, the refusal is no longer said when it is opened again.
  const clearEl = document.getElementById('clearModal');
  if (clearEl) {
    const clear = bootstrap.Modal.getOrCreateInstance(clearEl);
    clearEl.addEventListener('shown.bs.modal', function () {
      (clearEl.querySelector('.is-invalid') || clearEl.querySelector('[name=type]')).focus();
    });
    clearEl.addEventListener('hidden.bs.modal', function () {
      clearEl.querySelectorAll('#clear-refusal, .invalid-feedback').forEach(el => el.remove());
      clearEl.querySelectorAll('.is-invalid').forEach(el => el.classList.remove('is-invalid'));
      clearEl.querySelectorAll('[aria-invalid]').forEach(el => el.removeAttribute('aria-invalid'));
    });
    if (clearEl.hasAttribute('data-reopen')) {
      clearEl.style.display = 'block';
      clearEl.classList.remove('d-block');
      clear.show();
    }
  }

  // Log filter: choosing an executor reloads the job choices of that executor.
  document.querySelectorAll('[data-submit-on-change]').forEach(function (el) {
    el.addEventListener('change', function () {
      const jobSelect = el.form.querySelector('[name=jobId]');
      if (jobSelect) jobSelect.value = '0';
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    });
  });

  // Live tail of a run's output: poll from the last line read until the run has ended.
  const out = document.getElementById('log-output');
  if (out) {
    const status = document.getElementById('tail-status');
    const state = document.getElementById('run-state');
    const msg = document.getElementById('handle-msg');
    let next = 1;
    const colors = {success: 'success', fail: 'danger', running: 'primary', pending: 'secondary'};
    const poll = function () {
      fetch(out.dataset.catUrl + '?from=' + next, {credentials: 'same-origin'})
        .then(r => r.json())
        .then(function (body) {
          if (body.logContent) {
            const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
            out.append(document.createTextNode((out.textContent ? '\n' : '') + body.logContent));
            if (atBottom) out.scrollTop = out.scrollHeight;
          }
          if (body.toLineNum >= next) next = body.toLineNum + 1;
          state.textContent = body.label;
          state.className = 'badge text-bg-' + (colors[body.state] || 'secondary');
          // node, end time and the kill button follow the run, not the moment the page was drawn
          const node = document.getElementById('run-node');
          if (node && body.node !== undefined) node.textContent = body.node || gettext('待分配');
          // the note that no node is online goes once a node takes the run (or the run ends)
          const waiting = document.getElementById('run-waiting');
          if (waiting && body.state !== 'pending') waiting.hidden = true;
          const requested = document.getElementById('kill-requested');
          if (requested) requested.hidden = !(body.killRequested && !body.ended);
          if (body.ended) {
            const end = document.getElementById('run-end');
            if (end) end.textContent = body.handleTime || '';
            const kill = document.getElementById('kill-action');
            if (kill) kill.remove();
            if (body.result) msg.textContent = body.result;
          }
          if (body.isEnd) {
            status.textContent = gettext('输出已完整');
            out.dataset.ended = '1';
            if (body.result) msg.textContent = body.result;
          } else {
            setTimeout(poll, body.logContent ? 300 : 1000);
          }
        })
        .catch(function () { status.textContent = gettext('连接中断，稍后重试…'); setTimeout(poll, 3000); });
    };
    poll();
  }
})();
