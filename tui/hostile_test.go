package tui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"sharpflat/internal/safetext"
	"sharpflat/lab/train"
)

// hostileName is h made a legal file name (no NUL, no slash): what a directory of saved runs
// may be called by whoever wrote it.
func hostileName(h string) string {
	return strings.NewReplacer("\x00", "0", "/", "_").Replace(h)
}

// jsonString is s as a JSON string (its control characters written as \u00XX escapes, which
// a reader turns back into the bytes).
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// writeHostileRuns writes under root one saved run per safetext.Hostile() string: the string
// in its directory's name, in its config.json fields and in fields of its metrics.jsonl. One
// more run's last line names a hostile optimizer (a bad line: an error quoting it), and one
// ends in a cut line (a warning naming its directory).
func writeHostileRuns(t *testing.T, root string) (dirs []string, bad, cut string) {
	t.Helper()
	for i, h := range safetext.Hostile() {
		d := filepath.Join(root, fmt.Sprintf("run%d-%s", i, hostileName(h)))
		writeCompareRun(t, d, 1, 60, 30, 1, 1, float64(i%3))
		js := jsonString(h)
		cfg := fmt.Sprintf(`{"preset": %s, "data": %s, "note": %s}`, js, js, js)
		if err := os.WriteFile(filepath.Join(d, "config.json"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(filepath.Join(d, metricsFile), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, `{"step": 61, "loss": 0.5, "w_dom": 1, "w_bulk": 1, "label": %s, "update": %s}`+"\n", js, js)
		f.Close()
		dirs = append(dirs, d)
	}
	bad = filepath.Join(root, "bad-"+hostileName(safetext.Hostile()[1]))
	writeCompareRun(t, bad, 1, 20, 10, 1, 0, 0)
	f, err := os.OpenFile(filepath.Join(bad, metricsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "{\"step\": 21, \"optimizer\": %s}\n{\"step\": 22}\n", jsonString(safetext.Hostile()[0]+"sgd"))
	f.Close()
	cut = filepath.Join(root, "cut-"+hostileName(safetext.Hostile()[2]))
	writeCompareRun(t, cut, 1, 20, 10, 0, 1, 0)
	f, err = os.OpenFile(filepath.Join(cut, metricsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, `{"step": 21, "loss": 0.`)
	f.Close()
	return dirs, bad, cut
}

// Saved runs whose directory names, config fields and metrics fields hold the sequences a
// terminal executes, opened with --compare and with o, beside a live run whose data name,
// network and event log quote them too: nothing executable reaches the screen, and each name
// is shown escaped (not dropped).
func TestHostileTextNeverReachesTheScreen(t *testing.T) {
	root := filepath.Join(t.TempDir(), "runs")
	dirs, bad, cut := writeHostileRuns(t, root)
	h := safetext.Hostile()
	snap := syntheticSnapshot(600)
	snap.Data, snap.Arch, snap.Config.Data = "gaussian "+h[0], "20-16 "+h[5], "file"+h[1]+".csv"
	for i, s := range h {
		snap.Events = append(snap.Events, train.Event{Step: 600, Kind: train.EventCommand, Text: fmt.Sprintf("loaded %d %s", i, s)})
	}
	check := func(what string, m Model) {
		t.Helper()
		v := m.View()
		if safetext.Executable(v) {
			t.Errorf("%s: the screen holds executable text:\n%q", what, v)
		}
	}
	type step struct {
		what string
		keys []tea.KeyMsg
	}
	batches := [][]string{dirs[:6], dirs[6:], {bad}, {cut}}
	for _, size := range [][2]int{{120, 40}, {80, 24}} {
		for bi, batch := range batches {
			m := New(idleEngine(t), asciiRenderer(), Options{Compare: batch, RunDir: root})
			t.Cleanup(m.Close)
			mm, _ := m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			mm, _ = mm.Update(snapshotMsg{snap})
			m = mm.(Model)
			name := fmt.Sprintf("%dx%d, --compare batch %d", size[0], size[1], bi)
			check(name, m)
			switch bi {
			case 0:
				if len(m.runs) != 6 {
					t.Fatalf("%s: %d runs loaded (status %q)", name, len(m.runs), m.status)
				}
				if v := m.View(); !strings.Contains(v, `\x1b`) && !strings.Contains(v, `\u009b`) {
					t.Errorf("%s: no escaped name on the screen:\n%s", name, v)
				}
			case 2:
				if m.status == "" || safetext.Executable(m.status) {
					t.Errorf("%s: status %q", name, m.status)
				}
			case 3: // the warning is shown when o loads the run
				m, _ = m.compareWith(batch)
				if !strings.Contains(m.status, "cut line") || safetext.Executable(m.status) {
					t.Errorf("%s: status %q", name, m.status)
				}
				check(name+", the warning", m)
			}
			for _, s := range []step{
				{"o (the list of saved runs)", []tea.KeyMsg{typed("o")}},
				{"o, down, space, enter", []tea.KeyMsg{{Type: tea.KeyDown}, {Type: tea.KeySpace, Runes: []rune{' '}}, {Type: tea.KeyEnter}}},
				{"y (the shared setup)", []tea.KeyMsg{typed("y")}},
				{"? ? (the glossary)", []tea.KeyMsg{typed("?"), typed("?")}},
			} {
				for _, k := range s.keys {
					mm, _ := m.Update(k)
					m = mm.(Model)
				}
				check(name+", after "+s.what, m)
				if bi == 0 && strings.HasPrefix(s.what, "o (") && !strings.Contains(m.View(), `run0-\x1b[2J`) {
					t.Errorf("%s: the list of saved runs does not show run0's name escaped:\n%s", name, m.View())
				}
			}
		}
	}
}

// The shared command line (y) carries every byte of a value, quoted so that nothing in it
// is a control character: pasted into a shell it is one command, and shown it executes
// nothing.
func TestShareQuotesEveryByte(t *testing.T) {
	cfg, err := train.Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range safetext.Hostile() {
		c := cfg
		c.Data = "d" + h + "'x\\"
		got := ShareCommand(c)
		if safetext.Executable(got) || strings.ContainsAny(got, "\n\r") {
			t.Errorf("ShareCommand with data %q = %q", c.Data, got)
		}
	}
	// Reference: bash's ANSI-C quoting, written out by hand.
	c := cfg
	c.Data = "a\nb'c\\d\x1b"
	if got, want := shareQuote(c.Data), `$'a\x0ab\x27c\x5cd\x1b'`; got != want {
		t.Errorf("shareQuote(%q) = %s, want %s", c.Data, got, want)
	}
	if got, want := shareQuote("plain/λ.csv"), "'plain/λ.csv'"; got != want {
		t.Errorf("shareQuote = %s, want %s", got, want)
	}
}
