"""Material's script loads when the reader first interacts, not while the page first paints.

Every page is complete without Material's bundle: the text, links, navigation drawers (CSS
toggles) and the colour scheme (an inline script in the head) need none of it. What it adds,
the search results, the palette switch, back-to-top and copy buttons, is first needed when
the reader touches, clicks, types, scrolls or moves the pointer, so that is when it loads.
Measured with Lighthouse's mobile preset, its start-up was the only main-thread blocking
time of a page (bench/lighthouse.py). The key that woke it is replayed, so a search shortcut
works as the first thing a reader does. Material shows the palette switch itself, so it
appears with the first interaction.
"""

from __future__ import annotations

from generator.content.markup import TagSpan

BUNDLE = "assets/javascripts/bundle."  # in the src of Material's script

_LOADER = """<script>(function () {
  var src = "%s", loaded = false;
  var wake = ["pointerdown", "keydown", "touchstart", "focusin", "wheel", "scroll", "mousemove"];
  function replay(event) {
    if (event && event.type === "keydown") {
      window.dispatchEvent(new KeyboardEvent("keydown", {
        key: event.key, code: event.code, shiftKey: event.shiftKey, altKey: event.altKey,
        ctrlKey: event.ctrlKey, metaKey: event.metaKey, bubbles: true
      }));
    }
  }
  function load(event) {
    if (loaded) return;
    loaded = true;
    wake.forEach(function (kind) { window.removeEventListener(kind, load, true); });
    var script = document.createElement("script");
    script.src = src;
    script.onload = function () {
      requestAnimationFrame(function () { setTimeout(function () { replay(event); }, 0); });
    };
    document.body.appendChild(script);
  }
  wake.forEach(function (kind) {
    window.addEventListener(kind, load, {capture: true, passive: true});
  });
  if (/[?&]h=/.test(location.search)) load();  /* arriving from search: highlight at once */
})();</script>"""


# Material's script swaps `no-js` for `js` first thing; done in the head, the search box and
# the other parts that CSS shows only to script-enabled browsers appear with the first paint,
# and a reader without JavaScript still gets the no-js page.
_SCRIPTING = '<script>document.documentElement.classList.replace("no-js","js")</script>'


def bundle_on_interaction(source: str, spans: list[TagSpan]) -> list[tuple[int, int, str]]:
    """A template fix (html_fixes.py): Material's `<script src=…bundle…>` replaced by the
    loader, which takes the same `src` (template code: the URL relative to each page), and
    the scripting switch put last in the head; a template without both is left as it is."""
    bundle = next((i for i, tag in enumerate(spans) if _is_bundle(tag)), None)
    head_end = next((tag for tag in spans if tag.name == "head" and tag.closing), None)
    if bundle is None or head_end is None:
        return []
    end = next((t for t in spans[bundle + 1 :] if t.name == "script" and t.closing), None)
    if end is None:
        return []
    before, after = _LOADER.split("%s")
    src = spans[bundle].attr("src") or ""
    loader = f"{{% raw %}}{before}{{% endraw %}}{src}{{% raw %}}{after}{{% endraw %}}"
    return [(head_end.start, head_end.start, _SCRIPTING), (spans[bundle].start, end.end, loader)]


def _is_bundle(tag: TagSpan) -> bool:
    return tag.name == "script" and not tag.closing and BUNDLE in (tag.attr("src") or "")
