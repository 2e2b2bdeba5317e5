// Copy buttons: <button data-copy="#input-id"> copies that input's value and says so next to it.
(function () {
  function say(text) {
    const status = document.getElementById('copy-status');
    if (status) status.textContent = text;
  }
  document.querySelectorAll('[data-copy]').forEach(function (btn) {
    btn.addEventListener('click', function () {
      const input = document.querySelector(btn.dataset.copy);
      if (!input) return;
      const done = function () { say(gettext('已复制到剪贴板')); btn.classList.add('active'); };
      const fallback = function () {
        input.select();
        try { document.execCommand('copy') ? done() : say(gettext('复制失败，请手动选中复制')); } catch (e) { say(gettext('复制失败，请手动选中复制')); }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, fallback);
      } else {
        fallback();
      }
    });
  });
})();
