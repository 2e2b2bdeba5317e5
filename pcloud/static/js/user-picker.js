// The console's user picker (templates/macros.html, user_picker): search users by name or phone, pick one into the
// form's hidden field (the department's manager, the mail's recipient). Each page's JSON route says whom it offers.
(function () {
  document.querySelectorAll('[data-user-picker]').forEach(function (box) {
    const key = box.id.replace(/-picker$/, '');
    const input = document.getElementById(key + '-search');
    const list = document.getElementById(key + '-results');
    const current = document.getElementById(key + '-current');
    const hidden = box.closest('form').querySelector('input[name="' + box.dataset.valueField + '"]');
    // the search box is a field of its own (a typed phone): what is typed there replaces the pick
    const typedUnpicks = box.hasAttribute('data-typed-unpicks');
    let timer = null, seq = 0;
    function close() { list.classList.add('d-none'); list.innerHTML = ''; input.setAttribute('aria-expanded', 'false'); }
    // Phones come only to principals who may read the user list.
    function label(user) {
      return user.phone ? gettext('%(name)s（%(phone)s）', {name: user.name, phone: user.phone}) : user.name;
    }
    function pick(user) {
      hidden.value = user.id;
      input.value = label(user);
      current.textContent = gettext('已选：%(name)s', {name: label(user)});
      close();
    }
    function unpick() { hidden.value = ''; current.textContent = box.dataset.unpicked; }
    function render(items) {
      list.innerHTML = '';
      if (!items.length) {
        const none = document.createElement('div');
        none.className = 'list-group-item text-muted small';
        none.textContent = gettext('没有匹配的用户');
        list.appendChild(none);
      }
      items.forEach(function (u) {
        const btn = document.createElement('button');
        btn.type = 'button';
        btn.className = 'list-group-item list-group-item-action';
        btn.setAttribute('role', 'option');
        btn.dataset.userId = u.id;
        btn.textContent = label(u) + (u.deptName ? ' · ' + u.deptName : '') + (u.disabled ? ' · ' + gettext('已禁用') : '');
        btn.addEventListener('click', () => pick(u));
        list.appendChild(btn);
      });
      list.classList.remove('d-none');
      input.setAttribute('aria-expanded', 'true');
    }
    function search() {
      clearTimeout(timer);
      const q = input.value.trim();
      if (!q) { close(); return; }
      timer = setTimeout(function () {
        const mine = ++seq;
        fetch(box.dataset.searchUrl + '?q=' + encodeURIComponent(q), {headers: {'Accept': 'application/json'}})
          .then(r => r.json()).then(data => { if (mine === seq) render(data.items || []); })
          .catch(close);
      }, 200);
    }
    input.addEventListener('input', function () {
      if (typedUnpicks && hidden.value) unpick();
      search();
    });
    // Given back as typed when the sign-in had ended (app.js, data-kept): the pick and its name as they were sent.
    // Typed before this script ran (a slow page): search for it now rather than wait for more typing.
    if (box.closest('form').dataset.kept === '1') {
      current.textContent = hidden.value ? gettext('已选：%(name)s', {name: input.value}) : box.dataset.unpicked;
    } else if (input.value !== input.defaultValue) {
      if (typedUnpicks && hidden.value) unpick();
      search();
    }
    input.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape') close();
      if (ev.key === 'ArrowDown') { const first = list.querySelector('button'); if (first) { ev.preventDefault(); first.focus(); } }
      if (ev.key === 'Enter') { ev.preventDefault(); const first = list.querySelector('button'); if (first) first.click(); }
    });
    list.addEventListener('keydown', function (ev) {
      const el = document.activeElement;
      if (ev.key === 'ArrowDown' && el.nextElementSibling) { ev.preventDefault(); el.nextElementSibling.focus(); }
      if (ev.key === 'ArrowUp') { ev.preventDefault(); (el.previousElementSibling || input).focus(); }
      if (ev.key === 'Escape') { close(); input.focus(); }
    });
    document.getElementById(key + '-clear').addEventListener('click', function () {
      unpick(); input.value = ''; close(); input.focus();
    });
    document.addEventListener('click', function (ev) { if (!box.contains(ev.target)) close(); });
  });
})();
