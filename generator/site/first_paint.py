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

import re

_BUNDLE = re.compile(
    r'<script src="([^"]*assets/javascripts/bundle\.[0-9a-f]+\.min\.js)"></script>'
)

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
_SCRIPTING = '<script>document.documentElement.classList.replace("no-js","js")</script></head>'


def load_bundle_on_interaction(html: str) -> str:
    """Material's `<script src=bundle>` replaced by the loader; other pages pass unchanged."""
    html, found = _BUNDLE.subn(lambda m: _LOADER % m.group(1), html, count=1)
    return html.replace("</head>", _SCRIPTING, 1) if found else html
