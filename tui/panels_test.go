package tui

import (
	"slices"
	"strings"
	"testing"
)

// TestPanelsListed checks the panels' data: every id the arrangements place has one entry in
// the list, and every glossary term a panel names is a term of the glossary page.
func TestPanelsListed(t *testing.T) {
	ids := map[panelID]int{}
	for _, p := range screenPanels() {
		ids[p.id]++
		if p.draw == nil {
			t.Errorf("panel %d has no draw", p.id)
		}
		if p.glossary != "" && !slices.ContainsFunc(glossary, func(g term) bool { return g.sym == p.glossary }) {
			t.Errorf("panel %d names glossary term %q, which the glossary does not have", p.id, p.glossary)
		}
	}
	for _, rows := range [][][]panelID{narrowRows, wideRows} {
		for _, row := range rows {
			for _, id := range row {
				if ids[id] != 1 {
					t.Errorf("panel %d is placed but has %d entries in screenPanels", id, ids[id])
				}
			}
		}
	}
	if ids[panelPicture] != 1 {
		t.Errorf("the picture has %d entries", ids[panelPicture])
	}
}

// TestLayoutRects checks, over many terminal sizes, that the rectangles the layout gives the
// panels lie inside the charts grid and do not overlap, that each arrangement places all of
// its panels, and that the picture takes the spectrum's place (and the split's, when wide).
func TestLayoutRects(t *testing.T) {
	for w := MinWidth; w <= 220; w += 5 {
		for h := MinHeight; h <= 70; h += 3 {
			for _, pic := range []bool{false, true} {
				l := computeLayout(w, h, 0, 1, 10, pic)
				if l.chartsH == 0 {
					continue
				}
				rows := narrowRows
				if l.wide {
					rows = wideRows
				}
				want := slices.Concat(rows...)
				if pic {
					sp := l.rects[panelPicture]
					if l.wide {
						want = slices.DeleteFunc(want, func(p panelID) bool { return p == panelSplit })
						if sp.w <= (w-2*gap)/3 {
							t.Errorf("%d×%d: the wide picture is %d wide: it should take the split's place too", w, h, sp.w)
						}
					}
					for i, p := range want {
						if p == panelSpectrum {
							want[i] = panelPicture
						}
					}
				}
				var got []panelID
				for id := range l.rects {
					got = append(got, id)
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%d×%d picture %v: panels %v, want %v", w, h, pic, got, want)
				}
				cells := make([]panelID, w*l.chartsH)
				for id, r := range l.rects {
					if r.x < 0 || r.y < 0 || r.w <= 0 || r.h <= 0 || r.x+r.w > w || r.y+r.h > l.chartsH {
						t.Errorf("%d×%d: panel %d at %+v outside the %d×%d grid", w, h, id, r, w, l.chartsH)
						continue
					}
					for y := r.y; y < r.y+r.h; y++ {
						for x := r.x; x < r.x+r.w; x++ {
							if o := cells[y*w+x]; o != 0 {
								t.Fatalf("%d×%d: panels %d and %d overlap at (%d, %d)", w, h, o-1, id, x, y)
							}
							cells[y*w+x] = id + 1
						}
					}
				}
			}
		}
	}
}

// TestNewPanelIsOneEntry adds a panel that is not among the lab's (one entry in the list, one
// rectangle in the layout) and finds it drawn in its place.
func TestNewPanelIsOneEntry(t *testing.T) {
	m := New(idleEngine(t), asciiRenderer(), Options{})
	defer m.Close()
	mm, _ := m.Update(snapshotMsg{syntheticSnapshot(600)})
	m = mm.(Model)
	m.captions = true
	l := computeLayout(120, 40, 0, 1, 10, false)
	const density = panelPicture + 1
	ev := l.rects[panelEvents]
	l.rects[density] = rect{ev.x, ev.y, ev.w, ev.h}
	delete(l.rects, panelEvents)
	panels := append(screenPanels(), panel{id: density,
		caption: func(Model) []string { return []string{"a caption of the new panel"} },
		draw:    func(_ Model, a area, _ bool) { a.text(0, 0, "density panel here", inkTitle) }})
	lines := strings.Split(m.drawPanels(l, panels), "\n")
	if got := lines[ev.y]; !strings.HasPrefix(string([]rune(got)[ev.x:]), "density panel here") {
		t.Errorf("line %d = %q, want the new panel's text at column %d", ev.y, got, ev.x)
	}
	if got := lines[ev.y+ev.h-1]; !strings.Contains(got, "a caption of the new panel") {
		t.Errorf("line %d = %q, want the new panel's caption", ev.y+ev.h-1, got)
	}
	if strings.Contains(strings.Join(lines, "\n"), "what happened") {
		t.Error("the events panel is drawn although the layout no longer places it")
	}
}
