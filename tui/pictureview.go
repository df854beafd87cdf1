package tui

import (
	"sharpflat/lab"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

// v: the picture of what the network learned takes the place of the spectrum panels (the
// spectrum and the G/F split in the wide arrangement, the spectrum in the narrow one).

// pictureWords says what the picture shows for the data in use.
func (m Model) pictureWords() string {
	switch m.snap.Config.Data {
	case "teacher":
		return "picture on: this data set is a regression, with no classes to draw (v hides it)"
	case "moons", "circles", "xor", "spirals":
		return "picture on: the training points over the regions where the network predicts each class (v hides it)"
	}
	return "picture on: the test points on their top two principal components, coloured by the class the network predicts (v hides it)"
}

// picturePanel draws the picture (or, with V, the neurons) into a and returns its colour
// layers (none without colour).
func (m Model) picturePanel(a area) []*colorLayer {
	pal := sessionPalette(m.c.Styles)
	st := m.pictureState()
	look := pictureLook{test: st.test, color: pal.profile != termenv.Ascii, pal: pal, pager: m.c.KeyMap.NeuronsBack.Help().Key}
	if st.neurons {
		var ne *lab.Neurons
		step := 0
		if p := m.snap.Picture; p != nil {
			ne, step = p.Neurons, p.Step
		}
		return drawNeurons(a, ne, step, st.page, look)
	}
	if l := drawPicture(a, m.snap.Picture, m.regression(), look); l != nil {
		return []*colorLayer{l}
	}
	return nil
}

// pictureState returns the state of the picture's own keys (x, V, ←/→ in the neurons).
func (m Model) pictureState() pictureState { return m.pic }

// pictureKey handles the picture's keys before the others (pictureState.key): V opens the
// neurons (asking the engine for the picture they are painted with) and closes them with
// the picture. It reports false for any other key.
func (m Model) pictureKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	if m.confirmQuit || m.list.kind != listNone || m.chooser.open {
		return m, nil, false
	}
	was := m.pic.neurons
	words, ok := m.pic.key(k, m.c.KeyMap)
	if !ok {
		return m, nil, false
	}
	if m.pic.neurons != was {
		m.picture = m.pic.neurons
		m.sub.WantPicture(m.picture)
	}
	m.syncPictureKeys()
	if words == "" {
		return m, nil, true
	}
	mm, cmd := m.setStatus(words, false)
	return mm, cmd, true
}

// syncPictureKeys enables x while the decision picture shows and ←/→'s paging while the
// neurons do (the KeyMap is the session's, shared by the model's copies).
func (m Model) syncPictureKeys() {
	km := m.c.KeyMap
	km.TestPoints.SetEnabled(m.picture && !m.pic.neurons)
	km.NeuronsBack.SetEnabled(m.pic.neurons)
	km.NeuronsNext.SetEnabled(m.pic.neurons)
}

// pictureState is what the picture's own keys change.
type pictureState struct {
	test    bool // x: the test points over the training points
	neurons bool // V: the neurons view in the picture's place
	page    int  // ←/→ while the neurons show: the page of a wide layer
}

// key handles the picture's keys and returns the status to show, or reports false for any
// other key: x (TestPoints, enabled while the picture shows; the lab's t is the refresh
// period) switches the test points; V (Neurons) the neurons view, whose ←/→ (NeuronsBack,
// NeuronsNext, enabled while it shows, before α's) page through wide layers. The caller
// keeps m.picture on while the neurons show (the engine paints them with the picture),
// and enables the bindings to match.
func (s *pictureState) key(k tea.KeyMsg, km *KeyMap) (string, bool) {
	switch {
	case key.Matches(k, km.TestPoints):
		s.test = !s.test
		if s.test {
			return "test points on: hollow glyphs ○ △ over the training points, the title counts them (x hides them)", true
		}
		return "test points off", true
	case key.Matches(k, km.Neurons):
		s.neurons, s.page = !s.neurons, 0
		if s.neurons {
			if pk := km.NeuronsBack.Help().Key; pk != "←/→" { // a lesson's: its ←/→ step it
				return "neurons: what each unit computes, layer by layer, the outputs last; " + pk + " page through wide layers", true
			}
			return "neurons: what each unit computes, layer by layer, the outputs last; ←/→ page through wide layers (not α) until V closes the view", true
		}
		if km.NeuronsBack.Help().Key != "←/→" {
			return "neurons off", true
		}
		return "neurons off: ←/→ slide α again", true
	case s.neurons && key.Matches(k, km.NeuronsBack):
		s.page = max(0, s.page-1)
		return "", true
	case s.neurons && key.Matches(k, km.NeuronsNext):
		s.page++ // drawNeurons clamps it to the last page
		return "", true
	}
	return "", false
}

// regression reports whether the data has no classes (the teacher preset's data, for which
// the engine paints no picture).
func (m Model) regression() bool {
	return m.have && m.snap.Picture == nil && m.snap.Config.Data == "teacher"
}
