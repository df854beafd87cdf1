package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGlossaryCoversTheScreen: every symbol or abbreviation that the golden screens show is
// defined on the glossary page (as a term, or in a term's words).
func TestGlossaryCoversTheScreen(t *testing.T) {
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
