// Avatar fields: show the chosen image before it is uploaded (the server checks it when the form is saved).
(function () {
  document.querySelectorAll('input[type=file][data-avatar-input]').forEach(function (input) {
    const preview = document.getElementById(input.id + '-preview');
    if (!preview) return;
    let objectUrl = null;
    input.addEventListener('change', function () {
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      const file = input.files && input.files[0];
      if (!file) return;
      objectUrl = URL.createObjectURL(file);
      preview.src = objectUrl;
      preview.hidden = false;
    });
  });
})();
