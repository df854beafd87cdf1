package tui

import "strings"

// Panels are data: the charts grid is a list of panels, each with what it is, how its
// caption explains it (i), the glossary term that defines it, and how it draws itself. The
// layout gives each panel on screen a rectangle by its id (layout.go), and panelsView draws
// the list in order, so a new view is one entry here and one place in the arrangements.

// panelPicture is the picture of what the network learned (v): it takes the spectrum's place,
// or goes beside the charts on a wide terminal.
const panelPicture = panelEvents + 1

// panel is one chart of the screen.
type panel struct {
	id panelID
	// glossary is the glossary's term (its symbol) that says what the panel shows.
	glossary string
	// caption returns the panel's captions, longest first (nil: the panel has none).
	caption func(m Model) []string
	// draw draws the panel into a; wide says which arrangement it is in.
	draw func(m Model, a area, wide bool)
	// layer, if set, draws the panel instead of draw and returns the cells it paints in
	// colours of its own (half-block pictures), to go over the rendered grid; nil for none.
	layer func(m Model, a area, wide bool) []*colorLayer
}

// screenPanels is every panel the charts grid can show, in drawing order.
func screenPanels() []panel {
	captionOf := func(p panelID) func(Model) []string {
		return func(m Model) []string {
			if cs := m.raceCaption(p); cs != nil {
				return cs
			}
			return m.caption(p)
		}
	}
	return []panel{
		{id: panelLoss, glossary: "loss", caption: captionOf(panelLoss),
			draw: orRace(Model.lossPanel, Model.raceLossPanel)},
		{id: panelSharp, glossary: "sharpness λ₁", caption: captionOf(panelSharp),
			draw: orRace(Model.sharpnessPanel, Model.raceSharpnessPanel)},
		{id: panelAlign, glossary: "χ", caption: captionOf(panelAlign),
			draw: orRace(Model.alignmentPanel, Model.raceAlignmentPanel)},
		// The narrow arrangement has no split panel: the spectrum gives the G share instead. In a
		// race each line chart draws every arm, the spectrum the focused arm and a table of all.
		// s switches it to the density of H (of the focused arm in a race).
		{id: panelSpectrum, glossary: "spectrum λ₁…λₖ", caption: func(m Model) []string {
			if m.density { // the focused arm's density, in a race too
				return m.caption(panelSpectrum)
			}
			return captionOf(panelSpectrum)(m)
		},
			draw: func(m Model, a area, wide bool) {
				if m.density {
					m.densityPanel(a)
				} else if m.snap.Race != nil {
					m.raceSpectrumPanel(a, !wide)
				} else {
					m.spectrumPanel(a, !wide)
				}
			}},
		{id: panelPicture, glossary: "",
			draw:  func(m Model, a area, _ bool) { m.picturePanel(a) },
			layer: func(m Model, a area, _ bool) []*colorLayer { return m.picturePanel(a) }},
		{id: panelSplit, glossary: "Gᵢ, Fᵢ", caption: captionOf(panelSplit),
			draw: func(m Model, a area, _ bool) { m.splitPanel(a) }},
		// Wide, the events have a title line and three lines an event; narrow, one line each.
		{id: panelEvents, glossary: "events", caption: captionOf(panelEvents),
			draw: func(m Model, a area, wide bool) {
				if wide {
					m.eventsPanel(a, true, 3)
				} else {
					m.eventsPanel(a, false, 1)
				}
			}},
	}
}

// panelsView draws the panels of l into one grid and renders it; on a terminal wide enough
// the picture goes beside the charts rather than in the spectrum's place (besidePicture).
func (m Model) panelsView(l layout) string {
	if m.picture {
		l = l.besidePicture(max(len(m.snap.Basis.Values), m.snap.Config.K))
	}
	return m.drawPanels(l, screenPanels())
}

// drawPanels draws those of panels that l places, in order, into one grid and renders it.
func (m Model) drawPanels(l layout, panels []panel) string {
	g := newGrid(l.w, l.chartsH)
	a := g.all()
	if !m.have {
		msg := "waiting for the engine's first snapshot…"
		a.text(max(0, (l.w-len([]rune(msg)))/2), l.chartsH/2, msg, inkLabel)
		return g.render(&m.c.Styles.Ink)
	}
	var layers []*colorLayer
	for _, p := range panels {
		r, ok := l.rect(p.id)
		if !ok {
			continue
		}
		if m.captions && p.caption != nil {
			r = captionUnder(a, r, p.caption(m))
		}
		if p.layer != nil {
			layers = append(layers, p.layer(m, a.sub(r.x, r.y, r.w, r.h), l.wide)...)
			continue
		}
		p.draw(m, a.sub(r.x, r.y, r.w, r.h), l.wide)
	}
	out := g.render(&m.c.Styles.Ink)
	if len(layers) > 0 {
		out = spliceLayers(out, layers, sessionPalette(m.c.Styles))
	}
	return out
}

// captionUnder takes the caption line off the bottom of r (when the panel can spare it),
// draws there the longest of captions cs that fits, and returns what is left for the panel.
func captionUnder(a area, r rect, cs []string) rect {
	if r.h < 3 || len(cs) == 0 {
		return r
	}
	text := cs[len(cs)-1]
	for _, c := range cs {
		if len([]rune(c)) <= r.w {
			text = c
			break
		}
	}
	if len([]rune(text)) > r.w {
		text = wrapText(text, r.w, 1)[0]
	}
	a.sub(r.x, r.y+r.h-1, r.w, 1).text(0, 0, strings.TrimSpace(text), inkCaption)
	r.h--
	return r
}

// orRace draws a line chart with single for one run and with race, which overlays every arm,
// during a race.
func orRace(single, race func(Model, area)) func(Model, area, bool) {
	return func(m Model, a area, _ bool) {
		if m.snap.Race != nil {
			race(m, a)
		} else {
			single(m, a)
		}
	}
}
