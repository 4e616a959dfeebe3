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

from selectolax.lexbor import LexborHTMLParser

from generator.content.markup import parsed_element

BUNDLE = 'script[src*="assets/javascripts/bundle."]'

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


def bundle_on_interaction(tree: LexborHTMLParser) -> None:
    """An edit (generator/content/markup.py): Material's `<script src=bundle>` replaced by
    the loader; a page without it is left as it is."""
    bundle = tree.css_first(BUNDLE)
    if bundle is None or tree.head is None:
        return
    src = bundle.attributes.get("src") or ""
    bundle.replace_with(parsed_element(_LOADER % src.replace('"', "%22")))
    tree.head.insert_child(parsed_element(_SCRIPTING))
