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
document.querySelectorAll("iframe.press-digest-frame").forEach(function (frame) {
  frame.addEventListener("load", function () { pressLinksOpenOnTop(frame); });
  pressLinksOpenOnTop(frame);
});
