// 通知公告's 插入图片 (templates/notices/form.html): the chosen picture is uploaded at once (the checks and limits of an
// avatar: PNG, JPEG, GIF or WebP, checked by its content, 2 MiB) and its Markdown, ![name](/api/oss/files/...), goes
// in the content at the cursor. The file is the raw body and the form's CSRF token its header (notices/views.py). A
// refusal is the content field's error, as the server said it, in the page's language. Without this script the
// button stays hidden: the Markdown typed by hand works alike.
(function () {
  const tools = document.querySelector('[data-notice-image]');
  if (!tools) return;
  const area = document.getElementById(tools.dataset.target);
  const button = tools.querySelector('button');
  const input = tools.querySelector('input[type=file]');
  const maxBytes = parseInt(tools.dataset.maxBytes, 10);
  const errorId = area.id + '-image-error';
  let refusal = null;

  function describedBy(add) {
    const ids = (area.getAttribute('aria-describedby') || '').split(/\s+/).filter(id => id && id !== errorId);
    if (add) ids.unshift(errorId);
    if (ids.length) area.setAttribute('aria-describedby', ids.join(' ')); else area.removeAttribute('aria-describedby');
  }

  function clear() {
    if (!refusal) return;
    refusal.remove();
    refusal = null;
    describedBy(false);
    if (!area.parentElement.querySelector('.invalid-feedback')) {  // the server's own errors of the field stay
      area.classList.remove('is-invalid');
      area.removeAttribute('aria-invalid');
    }
  }

  function refuse(text) {
    clear();
    refusal = document.createElement('div');
    refusal.className = 'invalid-feedback d-block';
    refusal.id = errorId;
    refusal.setAttribute('role', 'alert');
    refusal.textContent = text;
    area.classList.add('is-invalid');
    area.setAttribute('aria-invalid', 'true');
    describedBy(true);
    const help = document.getElementById(area.id + '-help');
    if (help) help.before(refusal); else area.parentElement.appendChild(refusal);
  }

  // The file's name without its extension, as the picture's alt text; Markdown's brackets and backslash escaped.
  function altOf(name) {
    return name.replace(/\.[^.]*$/, '').replace(/[\r\n]+/g, ' ').replace(/([\\[\]])/g, '\\$1');
  }

  function insert(markdown) {
    const start = area.selectionStart;
    area.setRangeText(markdown, start, area.selectionEnd, 'end');
    area.dispatchEvent(new Event('input', {bubbles: true}));  // the 0/20000 counter
    area.focus();
  }

  function tooBig() {
    return gettext('图片不能超过 %(size)s MiB', {size: Math.round(maxBytes / 1048576 * 10) / 10});
  }

  async function upload(file) {
    const token = area.form.querySelector('input[name=csrf_token]');
    const label = button.innerHTML;
    button.disabled = true;
    button.innerHTML = '<span class="spinner-border spinner-border-sm" role="status"></span> ' + gettext('上传中…');
    try {
      const resp = await fetch(tools.dataset.url, {
        method: 'POST', body: file, credentials: 'same-origin',
        headers: {'Content-Type': 'application/octet-stream', 'Accept': 'application/json',
                  'X-CSRFToken': token ? token.value : ''},
      });
      let answer = null;
      try { answer = await resp.json(); } catch (e) { answer = null; }
      if (resp.ok && answer && answer.data && answer.data.url) {
        insert('![' + altOf(file.name) + '](' + answer.data.url + ')');
      } else if (answer && answer.msg) {
        refuse(answer.msg);
      } else if (resp.status === 413) {
        refuse(tooBig());
      } else if (resp.redirected || resp.status === 401) {  // signed out meanwhile: the sign-in page answered
        refuse(gettext('登录已失效，图片未上传：请重新登录后再插入'));
      } else {
        refuse(gettext('图片上传失败（%(reason)s）', {reason: resp.status}));
      }
    } catch (e) {
      refuse(gettext('图片上传失败（%(reason)s）', {reason: gettext('网络错误')}));
    } finally {
      button.disabled = false;
      button.innerHTML = label;
    }
  }

  button.addEventListener('click', function () { input.click(); });
  input.addEventListener('change', function () {
    const file = input.files && input.files[0];
    input.value = '';  // the same file chosen again uploads again
    if (!file) return;
    clear();
    if (maxBytes && file.size > maxBytes) {
      refuse(tooBig());
      return;
    }
    upload(file);
  });
  tools.hidden = false;
})();
