package tui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"sharpflat/lab"
)

// TestGlossaryCoversTheScreen: every symbol or abbreviation that the golden screens show is
// defined on the glossary page (as a term, or in a term's words), and every token the
// charts screens draw — the synthetic run, Bulk-SGD past the edge, a stale basis, a
// divergence, an edge far above the chart, weight decay on, and the density panel in its states, at 80×24 and
// 120×40, without colour (NO_COLOR) and with — is a number, a
// drawing glyph, or found in the glossary (screenTokensUndefined).
func TestGlossaryCoversTheScreen(t *testing.T) {
	for _, tok := range screenTokensUndefined(t) {
		t.Errorf("the screen draws %q, which the glossary does not define", tok)
	}
	// What the screen may write, as it writes it.
	symbols := []string{"α", "η", "2/η", "(2+2β)/η", "β", " k ", "T ", "λ₁", "λ₁₁", "χ", " g ", "∇L", "random",
		"felt", "% of the edge", "residual", "G share", "Gᵢ", "Fᵢ", "energy in V", "overlap", "HVP",
		"basis @", "stale", "DIVERGED", "ckpt", "eigen", "rollback", "w_dom", "w_bulk", "Dom-SGD", "Bulk-SGD",
		"damped-Bulk Dom", "damped-Dom Bulk", "P ", "test acc", "batch", "steps/s", "┊", "!", "█ G", "▓ F>0", "░ F<0"}
	var glossaryText strings.Builder
	for _, t := range glossary {
		glossaryText.WriteString(t.sym + " " + t.words + " " + t.formula + "\n")
	}
	g := glossaryText.String()
	screens, err := filepath.Glob(filepath.Join("testdata", "TestGolden", "*.golden"))
	if err != nil || len(screens) == 0 {
		t.Fatalf("no golden screens: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range screens {
		if strings.HasSuffix(f, "_color.golden") || strings.Contains(f, "glossary") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range symbols {
			if strings.Contains(string(b), s) {
				seen[s] = true
			}
		}
	}
	for _, s := range symbols {
		sym := strings.TrimSpace(s)
		if sym == "λ₁₁" {
			sym = "λₖ₊₁" // the glossary's general name for λ_{k+1}
		}
		if sym == "█ G" || sym == "▓ F>0" || sym == "░ F<0" {
			sym = sym[:len(sym)-len(strings.TrimLeft(sym, "█▓░"))] // the bar glyph
		}
		if seen[s] && !strings.Contains(g, sym) {
			t.Errorf("the screen shows %q, which the glossary does not define", s)
		}
	}
	if len(seen) < 30 {
		t.Errorf("only %d of the symbols are on the golden screens: is the list out of date?", len(seen))
	}
}

// plainWords are words the screen uses in sentences (a cut row, the brand), not symbols.
var plainWords = map[string]bool{"sharpflat": true, "more": true, "down": true}

// glossaryNorm folds what the glossary and the screen write differently for the same thing:
// case, and an index written in subscript digits or as ₖ / ₖ₊₁ (λ₁₀, λₖ₊₁ → λᵢ).
func glossaryNorm(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("ₖ₊₁", "ᵢ", "ₖ", "ᵢ", "_k", "ᵢ").Replace(s)
	return regexp.MustCompile(`[₀-₉]+`).ReplaceAllString(s, "ᵢ")
}

// screenTokensUndefined draws the charts screens and returns each token (a run of
// non-blanks, its punctuation trimmed) that is not defined: not a number, not made of
// drawing glyphs (box drawing, blocks, braille, the series' markers), and not found in the
// glossary, as it stands or without its numbers. The footer is left out: it is the keys'
// help, which explains itself.
func screenTokensUndefined(t *testing.T) []string {
	t.Helper()
	var g strings.Builder
	for _, t := range glossary {
		g.WriteString(t.sym + " " + t.words + " " + t.formula + "\n")
	}
	gl := glossaryNorm(g.String())
	// A short token (G, of, k) is found in almost any text: it must be one of the glossary's
	// words or symbols, whole; a longer one may be part of a phrase the glossary writes.
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(gl, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune("()[],:;·\"'", r) }) {
		words[strings.Trim(w, ".!?")] = true
	}
	for _, t := range glossary {
		words[glossaryNorm(t.sym)] = true
		for _, w := range strings.Fields(glossaryNorm(t.sym)) {
			words[w] = true
		}
	}
	defined := func(s string) bool {
		n := glossaryNorm(s)
		if len([]rune(n)) < 4 {
			return n != "" && words[n]
		}
		return strings.Contains(gl, n)
	}
	number := regexp.MustCompile(`[-+−]?[0-9]+(\.[0-9]+)?(e-?[0-9]+)?`)
	drawing := func(r rune) bool {
		return r >= 0x2500 && r <= 0x259f || r >= 0x2800 && r <= 0x28ff || strings.ContainsRune("•×·+┊╌", r)
	}
	seen := map[string]bool{}
	var out []string
	far := syntheticSnapshot(600) // the edge far above λ₁: named with ↑, not drawn
	far.Config.LR, far.Threshold = 0.01, 200
	decayed := syntheticSnapshot(600) // weight decay on: the sharpness chart's "incl. wd"
	decayed.Config.WeightDecay = 0.01
	// The density panel (s) too: with its density, far from its edge, while computing, and
	// before one was computed.
	dens, densFar, densBusy, densNone := densitySnapshot(), densitySnapshot(), densitySnapshot(), densitySnapshot()
	densFar.Threshold = 1e6
	densBusy.Density.Busy = true
	densNone.Density = lab.DensityState{}
	screens := []struct {
		snap    lab.Snapshot
		density bool
	}{{syntheticSnapshot(600), false}, {bulkSnapshot(false), false}, {bulkSnapshot(true), false},
		{divergedSnapshot(600), false}, {far, false}, {decayed, false}, {dens, true}, {densFar, true}, {densBusy, true}, {densNone, true}}
	for _, sc := range screens {
		for _, r := range []*lipgloss.Renderer{asciiRenderer(), colorRenderer()} {
			for _, size := range [][2]int{{80, 24}, {120, 40}} {
				m := New(idleEngine(t), r, Options{})
				m.density = sc.density
				mm, _ := m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				mm, _ = mm.Update(snapshotMsg{sc.snap})
				m.Close()
				lines := strings.Split(ansi.Strip(mm.View()), "\n")
				for _, l := range lines[:len(lines)-1] {
					for _, tok := range strings.Fields(l) {
						tok = strings.Trim(tok, "()[],:;·")
						if tok == "" || strings.HasSuffix(tok, "…") && !strings.Contains(tok, "λ") || seen[tok] {
							continue // a word cut short is read in full elsewhere
						}
						seen[tok] = true
						rest := strings.TrimFunc(number.ReplaceAllString(tok, ""), drawing)
						rest = strings.Trim(rest, "()[],:;·%×±.!-/")
						switch {
						case defined(tok), rest == "", defined(rest), plainWords[rest]:
							continue
						case strings.IndexFunc(rest, unicode.IsLetter) < 0:
							// Glyphs (◀ ● ▶ ↶ ┼): each one defined.
							ok := true
							for _, r := range rest {
								ok = ok && (drawing(r) || strings.ContainsRune(gl, r)) // a glyph is unambiguous
							}
							if ok {
								continue
							}
						case strings.HasSuffix(rest, "s") && defined(strings.TrimSuffix(rest, "s")):
							continue // a plural: HVPs
						}
						out = append(out, tok)
					}
				}
			}
		}
	}
	return out
}

// With weight decay on, the sharpness chart says that its values include the λI: λ₁'s key
// reads "λ₁ 12.71 +wd" (its value goes before the +wd does), and the chart's second line
// "λ₁ incl. wd 0.01" where it has room (200×60); nothing of it without decay.
func TestSharpnessChartNotesWeightDecay(t *testing.T) {
	for _, c := range []struct {
		wd         float64
		w, h       int
		key, below string
	}{{0.01, 200, 60, "─ λ₁ 12.71 +wd", "λ₁ incl. wd 0.01"}, {0.01, 120, 40, "─ λ₁ 12.71 +wd", ""}, {0.01, 80, 24, "─ λ₁ 12.71 +wd", ""},
		{0, 200, 60, "─ λ₁ 12.71", ""}, {0, 80, 24, "─ λ₁ 12.71", ""}} {
		snap := syntheticSnapshot(600)
		snap.Config.WeightDecay = c.wd
		m := New(idleEngine(t), asciiRenderer(), Options{})
		mm, _ := m.Update(tea.WindowSizeMsg{Width: c.w, Height: c.h})
		mm, _ = mm.Update(snapshotMsg{snap})
		m.Close()
		view := ansi.Strip(mm.View())
		if !strings.Contains(view, c.key) {
			t.Errorf("wd %v at %dx%d: no %q on the screen:\n%s", c.wd, c.w, c.h, c.key, view)
		}
		if c.below != "" && !strings.Contains(view, c.below) {
			t.Errorf("wd %v at %dx%d: no %q on the screen:\n%s", c.wd, c.w, c.h, c.below, view)
		}
		if c.wd == 0 && strings.Contains(view, "wd") {
			t.Errorf("no decay at %dx%d, but the screen names it:\n%s", c.w, c.h, view)
		}
	}
}
