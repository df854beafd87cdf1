//go:build !race

// Not under the race detector: its other half is a browser, and a race-instrumented server
// drawing two 142-column terminals for Chromium on a shared two-core machine took 5 minutes
// of the package's 10. .ci/run runs it without the detector, after the race pass.

package serve

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The page in a real browser: headless Chromium (chromedp) opens a watcher's link and a
// controller's link in two tabs of one browser and reads the lab from each terminal's
// buffer. There is no skip: without a browser the test fails and says how to get one
// (.ci/run installs it).

// chromiumPath finds a Chromium or Chrome ($SHARPFLAT_CHROMIUM first).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SHARPFLAT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found (looked for chromium, chromium-browser, google-chrome, headless-shell, and $SHARPFLAT_CHROMIUM): install it, e.g. apt-get install -y chromium; .ci/run does")
	return ""
}

// bufferText is the JavaScript that reads a page's terminal: its buffer's lines as text.
const bufferText = `(() => {
	const t = window.sharpflatTerm;
	if (!t) return '';
	const b = t.buffer.active;
	let s = '';
	for (let i = 0; i < b.length; i++) { const l = b.getLine(i); if (l) s += l.translateToString(true) + '\n'; }
	return s;
})()`

// tab is one browser tab showing the page.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// waitScreen waits until the tab's terminal shows s (polled in the page, under the hang
// guard), and returns the screen.
func (tb tab) waitScreen(s string) string {
	tb.t.Helper()
	expr := `(` + bufferText + `).includes(` + jsString(s) + `)`
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(hangGuard), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		tb.t.Fatalf("waited for %q in the browser: %v; the screen:\n%s", s, err, tb.screen())
	}
	return tb.screen()
}

// painted is the JavaScript that checks the terminal is drawn, not only in its buffer:
// every <style> element xterm added is in force (a Content-Security-Policy without inline
// styles leaves it without a sheet), and a cell with text has a colour of its own against
// the background it is drawn on. It returns "" or what is wrong.
const painted = `(() => {
	for (const s of document.querySelectorAll('style')) if (!s.sheet) return 'a <style> element the page refused (no sheet)';
	const row = [...document.querySelectorAll('.xterm-rows > div')].find((d) => d.textContent.trim() !== '');
	if (!row) return 'no row with text in the DOM';
	const cell = row.querySelector('span') || row;
	const fg = getComputedStyle(cell).color;
	let bg = 'rgba(0, 0, 0, 0)';
	for (let e = cell; e && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent'); e = e.parentElement) bg = getComputedStyle(e).backgroundColor;
	if (fg === bg) return 'text drawn in ' + fg + ' on ' + bg;
	return '';
})()`

// checkPainted fails the test if the tab's terminal is not visibly drawn (polled: xterm
// draws its rows at the next animation frame).
func (tb tab) checkPainted() {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](`(`+painted+`) === ''`, chromedp.WithPollingTimeout(hangGuard), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		msg, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](painted))
		tb.t.Errorf("the terminal is not drawn: %s (%v)", msg, err)
	}
}

func (tb tab) screen() string {
	text, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](bufferText))
	return text
}

// press types keys into the tab's terminal (it has the focus once joined).
func (tb tab) press(keys string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(keys)); err != nil {
		tb.t.Fatalf("press %q: %v", keys, err)
	}
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func TestBrowserClassroom(t *testing.T) {
	exe := chromiumPath(t)
	ts, e := startWebClassroom(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1200, 800), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// No timeout on these contexts (it would stop the browser): every wait below is a poll
	// with the hang guard as its timeout.
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", exe, err)
	}
	base := "http://" + ts.webAddr + "/#t="

	// The watcher's tab.
	watcher := tab{t, bctx}
	if err := chromedp.Do(watcher.ctx, chromedp.Navigate(base+testToken("student"))); err != nil {
		t.Fatal(err)
	}
	watcher.waitScreen("waiting for the teacher")
	watcher.checkPainted()

	// The token leaves the address bar once read; a reload joins again (from the tab's
	// sessionStorage).
	if h, err := chromedp.Run(watcher.ctx, chromedp.Evaluate[string](`location.hash`)); err != nil || h != "" {
		t.Errorf("after joining, the address bar still has %q (err %v): the token shows", h, err)
	}
	if err := chromedp.Do(watcher.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	watcher.waitScreen("waiting for the teacher")

	// The controller's tab, in the same browser.
	cctx, cancelC := chromedp.NewContext(bctx)
	defer cancelC()
	ctl := tab{t, cctx}
	if err := chromedp.Do(ctl.ctx, chromedp.Navigate(base+testToken("teacher"))); err != nil {
		t.Fatal(err)
	}
	ctl.waitScreen("1 watching")
	ctl.waitScreen("paused")
	watcher.waitScreen("paused")

	// Keys in the watcher change nothing.
	watcher.press(" ")
	watcher.waitScreen("steering keys are disabled")
	if s := engineStep(e); s != 0 {
		t.Fatalf("a watcher's space started training (step %d)", s)
	}

	// Space in the controller starts training, seen in the watcher.
	ctl.press(" ")
	ctl.waitScreen("running")
	watcher.waitScreen("running")
	eventually(t, "the engine did not train", func() bool { return engineStep(e) > 0 })

	// The terminal fills the window and follows it.
	cols1, err := chromedp.Run(ctl.ctx, chromedp.Evaluate[int](`window.sharpflatTerm.cols`))
	if err != nil {
		t.Fatal(err)
	}
	if cols1 < 100 {
		t.Errorf("a 1200-pixel window holds %d columns: the terminal does not fill it", cols1)
	}
	if err := chromedp.Do(ctl.ctx, chromedp.EmulateViewport(700, 600)); err != nil {
		t.Fatal(err)
	}
	cols2, err := chromedp.Run(ctl.ctx, chromedp.Poll[int](`window.sharpflatTerm.cols < `+strconv.Itoa(cols1)+` && window.sharpflatTerm.cols`,
		chromedp.WithPollingTimeout(hangGuard)))
	if err != nil {
		t.Errorf("the terminal did not follow the window: %v (cols %d)", err, cols1)
	}

	// y (OSC 52) reaches the browser's clipboard API (headless Chromium has no clipboard of
	// its own: the page's call is what is checked).
	if _, err := chromedp.Run(ctl.ctx, chromedp.Evaluate[bool](`navigator.clipboard.writeText = (t) => { window.copied = t; return Promise.resolve(); }, true`)); err != nil {
		t.Fatal(err)
	}
	ctl.press("y")
	clip, err := chromedp.Run(ctl.ctx, chromedp.Poll[string](`window.copied`, chromedp.WithPollingTimeout(hangGuard)))
	if err != nil {
		t.Errorf("y did not reach navigator.clipboard: %v; the screen:\n%s", err, ctl.screen())
	}
	t.Logf("resize: %d → %d columns; copied by y: %.80q", cols1, cols2, clip)
}
