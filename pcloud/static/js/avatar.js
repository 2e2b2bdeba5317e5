// Avatar fields: show the chosen image before it is uploaded (the server checks it when the form is saved). A file
// over the field's data-max-bytes is refused when chosen, under the field: posted, the request would pass the site's
// body limit and the save would answer a bare 413 page, losing what was typed beside it.
(function () {
  document.querySelectorAll('input[type=file][data-avatar-input]').forEach(function (input) {
    const preview = document.getElementById(input.id + '-preview');
    const maxBytes = parseInt(input.dataset.maxBytes, 10);
    const shown = preview ? {src: preview.getAttribute('src'), hidden: preview.hidden} : null;
    let objectUrl = null;
    let refusal = null;
    input.addEventListener('change', function () {
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = null;
      if (refusal) { refusal.remove(); refusal = null; input.classList.remove('is-invalid'); }
      const file = input.files && input.files[0];
      if (file && maxBytes && file.size > maxBytes) {
        input.value = '';
        refusal = document.createElement('div');
        refusal.className = 'invalid-feedback d-block';
        refusal.setAttribute('role', 'alert');
        refusal.textContent = gettext('图片不能超过 %(size)s MiB', {size: Math.round(maxBytes / 1048576 * 10) / 10});
        input.classList.add('is-invalid');
        input.insertAdjacentElement('afterend', refusal);
      }
      if (!preview) return;
      if (!input.files || !input.files[0]) {  // none chosen, or refused: the avatar shown before
        if (shown.src) preview.setAttribute('src', shown.src); else preview.removeAttribute('src');
        preview.hidden = shown.hidden;
        return;
      }
      objectUrl = URL.createObjectURL(input.files[0]);
      preview.src = objectUrl;
      preview.hidden = false;
    });
  });
})();
