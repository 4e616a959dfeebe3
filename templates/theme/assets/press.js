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
