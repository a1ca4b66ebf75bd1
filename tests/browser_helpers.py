"""Opening a product in headless Chromium with every request off file:// refused, recording what it tried."""
from __future__ import annotations

from types import SimpleNamespace

from workbench import maps


def open_offline(chromium_path, html_path, action, viewport=(1400, 900)):
    """Load html_path from file:// (network blocked) and run action(page). Returns result (what action
    returned), attempted (URLs refused), console_errors, page_errors and dialogs (messages dismissed)."""
    from playwright.sync_api import sync_playwright

    seen = SimpleNamespace(result=None, attempted=[], console_errors=[], page_errors=[], dialogs=[])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=maps.CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})

            def route(r):
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    seen.attempted.append(r.request.url)
                    r.abort()

            def on_dialog(d):
                seen.dialogs.append(d.message)
                d.dismiss()

            page.route("**/*", route)
            page.on("dialog", on_dialog)
            page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            seen.result = action(page)
        finally:
            browser.close()
    return seen
