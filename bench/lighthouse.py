"""Lighthouse scores of the built example site: the home page, a post and an archived issue,
median of 3 runs; each page's final screenshot (Lighthouse's, a phone) is saved for a look.

The site is built at the fixed benchmark clock and served from 127.0.0.1, gzipped as GitHub
Pages serves it; Lighthouse 12.2.3 runs with its default mobile preset (simulated throttling)
in Debian's Chromium. Scores are the medians of the runs for each category; any request to
another host is listed.

    bin/setup --bench                 # once: Lighthouse in .cache/bench/lighthouse
    .venv/bin/python bench/lighthouse.py [--runs 3] [--screenshots .cache/bench/screens]
"""

from __future__ import annotations

import argparse
import base64
import functools
import gzip
import http.server
import io
import json
import statistics
import subprocess
import tempfile
import threading
from pathlib import Path

from corpus import NOW, REPO

LIGHTHOUSE = REPO / ".cache/bench/lighthouse/node_modules/.bin/lighthouse"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
PAGES = {
    "home": "",
    "post": "posts/quiet-voices-in-loud-rooms/",
    "issue": "newsletter/2026-11-21/",
}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def build_site(dest: Path) -> Path:
    from generator.site.build import build_all
    from generator.site.options import BuildOptions

    return build_all(REPO, BuildOptions(now=NOW), dest / "site", force=True).site_dir


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzipped when the browser accepts it, as GitHub Pages and any CDN serve
    them: uncompressed local files would make the simulated network the whole story."""

    def send_head(self):  # type: ignore[no-untyped-def]
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not wants_gzip or path.suffix not in COMPRESSED or not path.is_file():
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


COMPRESSED = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt"}


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(StaticHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def audit(url: str, out: Path) -> dict:
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={CHROME_FLAGS}",
        ],
        check=True,
        timeout=300,
        env={"CHROME_PATH": "/usr/bin/chromium", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    return json.loads(out.read_text())


def summary(report: dict) -> dict[str, float]:
    scores = {c: report["categories"][c]["score"] * 100 for c in CATEGORIES}
    audits = report["audits"]
    scores["fcp_ms"] = audits["first-contentful-paint"]["numericValue"]
    scores["lcp_ms"] = audits["largest-contentful-paint"]["numericValue"]
    scores["tbt_ms"] = audits["total-blocking-time"]["numericValue"]
    scores["cls"] = audits["cumulative-layout-shift"]["numericValue"]
    return scores


def save_screenshot(report: dict, path: Path) -> None:
    """Lighthouse's final screenshot of the page (a data: URL of a JPEG)."""
    data = report["audits"]["final-screenshot"]["details"]["data"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(data.split(",", 1)[1]))


def third_party(report: dict, origin: str) -> list[str]:
    items = report["audits"]["network-requests"]["details"]["items"]
    return sorted({i["url"] for i in items if not i["url"].startswith((origin, "data:"))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--screenshots", type=Path, default=REPO / ".cache/bench/screens")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is missing: run bin/setup --bench first")
    with tempfile.TemporaryDirectory() as tmp:
        server, origin = serve(build_site(Path(tmp)))
        try:
            for name, path in PAGES.items():
                runs = []
                for n in range(args.runs):
                    report = audit(origin + path, Path(tmp) / f"{name}-{n}.json")
                    runs.append(summary(report))
                    save_screenshot(report, args.screenshots / f"lighthouse-{name}.jpg")
                    if others := third_party(report, origin):
                        print(f"{name}: requests to other hosts: {others}")
                medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                shown = ", ".join(f"{c} {medians[c]:.0f}" for c in CATEGORIES)
                print(f"{name} (/{path}), median of {args.runs}: {shown}")
                print(
                    f"  first contentful paint {medians['fcp_ms']:.0f} ms, largest "
                    f"{medians['lcp_ms']:.0f} ms, total blocking time {medians['tbt_ms']:.0f} ms,"
                    f" layout shift {medians['cls']:.3f}; performance runs: "
                    + ", ".join(f"{r['performance']:.0f}" for r in runs)
                )
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
