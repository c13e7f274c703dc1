// Upload with a real progress bar: XMLHttpRequest reports bytes sent; the server answers JSON.
const form = document.getElementById("upload-form");
const bar = document.getElementById("upload-bar");
const pct = document.getElementById("upload-pct");
const text = document.getElementById("upload-text");
const submit = document.getElementById("upload-submit");

function mib(bytes) { return (bytes / 1048576).toFixed(1); }

function showErrors(errors) {
  form.querySelectorAll(".field .error.js").forEach((el) => el.remove());
  form.querySelectorAll(".field.invalid").forEach((el) => el.classList.remove("invalid"));
  for (const [field, messages] of Object.entries(errors)) {
    const box = document.getElementById(`field-${field}`) || document.getElementById("field-file");
    box.classList.add("invalid");
    for (const m of messages) {
      const p = document.createElement("p");
      p.className = "error js";
      p.textContent = m;
      box.append(p);
    }
  }
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const data = new FormData(form);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.setRequestHeader("X-CSRFToken", data.get("csrfmiddlewaretoken"));
  document.getElementById("upload-progress").hidden = false;
  submit.disabled = true;
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    const p = Math.round((100 * e.loaded) / e.total);
    bar.style.width = `${p}%`;
    pct.textContent = `${p} %`;
    text.textContent = `${mib(e.loaded)} of ${mib(e.total)} MiB sent`;
  };
  xhr.upload.onload = () => { text.textContent = "Upload complete — storing…"; };
  xhr.onload = () => {
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status === 201 && body.url) { window.location.assign(body.url); return; }
    submit.disabled = false;
    text.textContent = "Upload rejected";
    showErrors(body.errors || { file: [`The server answered ${xhr.status}.`] });
  };
  xhr.onerror = () => {
    submit.disabled = false;
    text.textContent = "Network error — the upload did not finish. Try again.";
  };
  xhr.send(data);
});
