// 用户导入 (templates/users/list.html): posts the file with XMLHttpRequest so the upload shows its progress; the
// server reads the whole file in one answer, so the bar then waits (striped) until the check or import is done.
// The answer's errors fill the error table; the generated passwords are shown once and can be downloaded.
(function () {
  "use strict";
  const form = document.getElementById("import-form");
  if (!form) return;
  const body = form.querySelector(".modal-body");
  const fileInput = document.getElementById("import-file");
  const progress = document.getElementById("import-progress");
  const bar = progress.querySelector(".progress-bar");
  const status = document.getElementById("import-status");
  const errorsBox = document.getElementById("import-errors");
  const passwordsBox = document.getElementById("import-passwords");
  const buttons = [document.getElementById("import-check"), document.getElementById("import-commit")];
  let passwords = [];
  let committed = false;

  function csrfToken() {
    return form.querySelector("input[name=csrf_token]").value;
  }

  function setStatus(text, cls) {
    status.className = "small mb-2 " + (cls || "");
    status.textContent = text;
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function fill(box, rows, keys) {
    const tbody = box.querySelector("tbody");
    tbody.replaceChildren();
    rows.forEach(function (item) {
      const tr = document.createElement("tr");
      keys.forEach(function (k) { cell(tr, String(item[k] === undefined ? "" : item[k])); });
      tbody.appendChild(tr);
    });
    box.classList.toggle("d-none", rows.length === 0);
  }

  function showResult(data) {
    fill(errorsBox, data.errors || [], ["row", "column", "message"]);
    passwords = data.passwords || [];
    fill(passwordsBox, passwords, ["row", "phone", "name", "password"]);
    if (data.errorCount) {
      const listed = (data.errors || []).length;
      const values = {total: data.total, errors: data.errorCount, listed: listed};
      setStatus(listed < data.errorCount
        ? gettext("共 %(total)s 行，发现 %(errors)s 处错误（仅列出前 %(listed)s 处），未导入任何数据。请修改文件后重新上传。", values)
        : gettext("共 %(total)s 行，发现 %(errors)s 处错误，未导入任何数据。请修改文件后重新上传。", values),
        "text-danger");
    } else if (data.dryRun) {
      setStatus(gettext("检查通过：共 %(total)s 行，将新增 %(created)s 个、更新 %(updated)s 个用户。点「开始导入」写入。",
        {total: data.total, created: data.created, updated: data.updated}), "text-success");
    } else {
      committed = true;
      setStatus(gettext("导入完成：新增 %(created)s 个、更新 %(updated)s 个、未变化 %(skipped)s 个用户。",
        {created: data.created, updated: data.updated, skipped: data.skipped}), "text-success");
    }
  }

  function send(dryRun) {
    if (!fileInput.files.length) {
      setStatus(gettext("请先选择要导入的 Excel 文件"), "text-danger");
      return;
    }
    const maxBytes = Number(body.dataset.maxBytes || 0);
    if (maxBytes && fileInput.files[0].size > maxBytes) {
      setStatus(gettext("文件过大：导入文件不能超过 %(limit)s MB", {limit: Math.floor(maxBytes / 1048576)}), "text-danger");
      return;
    }
    // The file is the raw body, the options go in the query and the CSRF token in its header: the site's CSRF
    // check then needs no form parsing (users/views.py).
    const query = new URLSearchParams({
      dryRun: dryRun ? "true" : "false",
      updateExisting: document.getElementById("import-update").checked ? "true" : "false",
    });
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action + "?" + query.toString());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    progress.classList.remove("d-none");
    bar.style.width = "0%";
    buttons.forEach(function (b) { b.disabled = true; });
    setStatus(dryRun ? gettext("正在上传并检查…") : gettext("正在上传并导入…"));
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) bar.style.width = Math.round((e.loaded / e.total) * 100) + "%";
    };
    xhr.upload.onload = function () {
      bar.style.width = "100%";
      setStatus(dryRun ? gettext("上传完成，正在逐行检查…") : gettext("上传完成，正在导入…"));
    };
    xhr.onloadend = function () {
      progress.classList.add("d-none");
      buttons.forEach(function (b) { b.disabled = false; });
      let answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      if (xhr.status === 200 && answer && answer.data) {
        showResult(answer.data);
      } else {
        fill(errorsBox, [], []);
        setStatus((answer && answer.msg) || gettext("导入失败（%(reason)s）", {reason: xhr.status || gettext("网络错误")}),
          "text-danger");
      }
    };
    xhr.send(fileInput.files[0]);
  }

  document.getElementById("import-check").addEventListener("click", function () { send(true); });
  form.addEventListener("submit", function (e) { e.preventDefault(); send(false); });
  fileInput.addEventListener("change", function () {
    setStatus("");
    fill(errorsBox, [], []);
  });

  document.getElementById("import-passwords-download").addEventListener("click", function () {
    // The list goes back to the server only to be written as an .xlsx; nothing of it is kept there.
    fetch(body.dataset.passwordsUrl, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(passwords),
      headers: { "Content-Type": "application/octet-stream", "X-CSRFToken": csrfToken() },
    })
      .then(function (resp) { if (!resp.ok) throw new Error(String(resp.status)); return resp.blob(); })
      .then(function (blob) {
        const a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = gettext("用户导入初始密码.xlsx");
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      })
      .catch(function () { setStatus(gettext("下载失败，请重试"), "text-danger"); });
  });

  document.getElementById("importModal").addEventListener("hidden.bs.modal", function () {
    passwords = [];
    fill(passwordsBox, [], []);
    if (committed) window.location.reload();  // the list shows the imported users
  });
})();
