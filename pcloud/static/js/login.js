// Moved out of templates/auth/login.html so the Content-Security-Policy can say script-src 'self'.
(function () {
  const btn = document.getElementById('send-code');
  const status = document.getElementById('send-code-status');
  btn.addEventListener('click', async function () {
    const phone = document.getElementById('sms-phone').value.trim();
    if (!phone) { status.textContent = gettext('请先输入手机号'); return; }
    btn.disabled = true;
    const body = new URLSearchParams({phone: phone, csrf_token: btn.dataset.csrf});
    let data = {ok: false, msg: gettext('发送失败，请稍后再试')};
    try {
      const resp = await fetch(btn.dataset.url, {method: 'POST', body: body, headers: {'Accept': 'application/json'}});
      data = await resp.json();
    } catch (e) { /* network error: keep the default message */ }
    status.textContent = data.msg;
    status.className = 'form-text ' + (data.ok ? 'text-success' : 'text-danger');
    if (!data.ok) { btn.disabled = false; return; }
    let left = 60;
    const timer = setInterval(function () {
      left -= 1; btn.textContent = gettext('%(n)s 秒后重发', {n: left});
      if (left <= 0) { clearInterval(timer); btn.disabled = false; btn.textContent = gettext('获取验证码'); }
    }, 1000);
  });
})();
