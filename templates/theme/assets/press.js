// "Copy link" on share bars: copies the article URL; without JavaScript it is a plain link.
document.addEventListener("click", function (event) {
  var link = event.target.closest("[data-press-copy]");
  if (!link || !navigator.clipboard) return;
  event.preventDefault();
  var status = link.closest(".press-share").querySelector(".press-share__status");
  navigator.clipboard.writeText(link.getAttribute("data-press-copy")).then(function () {
    status.textContent = "Link copied";
  }, function () {
    status.textContent = "Copy failed: use your browser's address bar";
  });
});

// The newsletter archive shows each digest in a frame, as its bytes were emailed. Its links
// lead to articles: they open in the whole window, not inside the frame.
function pressLinksOpenOnTop(frame) {
  var doc = frame.contentDocument;
  if (!doc || !doc.head || doc.querySelector("base[target]")) return;
  var base = doc.createElement("base");
  base.setAttribute("target", "_top");
  doc.head.prepend(base);
}
// The frame is as tall as the email in it, whatever the width: no scroll bar inside, no empty
// band below. The body's own height, since the document's is at least the frame's.
function pressFitFrame(frame) {
  var doc = frame.contentDocument;
  if (!doc || !doc.body) return;
  var height = Math.ceil(doc.body.getBoundingClientRect().height);
  var border = frame.offsetHeight - frame.clientHeight;  // the theme sizes border boxes
  if (height > 0) frame.style.height = height + border + "px";
}
function pressWatchFrame(frame) {
  pressLinksOpenOnTop(frame);
  pressFitFrame(frame);
  var doc = frame.contentDocument;
  if (window.ResizeObserver && doc && doc.body && !frame.pressObserved) {
    frame.pressObserved = true;
    new ResizeObserver(function () { pressFitFrame(frame); }).observe(doc.body);
  }
}
document.querySelectorAll("iframe.press-digest-frame").forEach(function (frame) {
  frame.addEventListener("load", function () { frame.pressObserved = false; pressWatchFrame(frame); });
  if (frame.contentDocument && frame.contentDocument.readyState === "complete") pressWatchFrame(frame);
});

// The subscribe box posts in place when this script runs, and shows the service's answer
// (the thank-you or what to fix) in its status line; without it the form posts as a page.
document.addEventListener("submit", function (event) {
  var box = event.target.closest("[data-press-subscribe]");
  if (!box || !window.fetch || !window.URLSearchParams) return;
  event.preventDefault();
  var form = event.target;
  var status = box.querySelector(".press-subscribe__status");
  var input = form.querySelector("input[type=email]");
  var button = form.querySelector("button");
  button.disabled = true;
  status.textContent = "Sending…";
  box.removeAttribute("data-state");
  fetch(form.action, {
    method: "POST",
    headers: { "Accept": "application/json" },
    body: new URLSearchParams(new FormData(form))
  }).then(function (response) {
    return response.json().then(function (answer) {
      box.setAttribute("data-state", answer.ok ? "done" : "error");
      input.setAttribute("aria-invalid", answer.ok ? "false" : "true");
      status.textContent = answer.message;
      button.disabled = false;
      if (!answer.ok) input.focus();
    });
  }).catch(function () {
    form.submit();  // the service could not be reached from here: let the browser post it
  });
});

// The topics summary says what is ticked, so a closed box still tells the reader.
document.addEventListener("change", function (event) {
  var topics = event.target.closest(".press-subscribe__topics");
  if (!topics) return;
  var boxes = topics.querySelectorAll("input[type=checkbox]");
  var ticked = Array.prototype.filter.call(boxes, function (box) { return box.checked; });
  var names = ticked.map(function (box) { return box.value; });
  topics.querySelector("summary").textContent = "Topics: " + (
    ticked.length === boxes.length ? "all of them" : names.length ? names.join(", ") : "none ticked"
  );
});
